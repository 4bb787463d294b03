using Microsoft.EntityFrameworkCore.Design;

namespace MetaService.Core.Infrastructure;

/// <summary>Lets `dotnet ef` build a <see cref="SqliteMetaDbContext"/> without a database file.</summary>
public sealed class SqliteMetaDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SqliteMetaDbContext>
{
    public SqliteMetaDbContext CreateDbContext(string[] args) =>
        (SqliteMetaDbContext)new MetaDbContextFactory(MetadataProvider.Sqlite, "metadata.db").CreateDbContext();
}
