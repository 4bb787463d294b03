using Microsoft.EntityFrameworkCore.Design;

namespace MetaService.Core.Infrastructure;

/// <summary>Lets `dotnet ef` build a <see cref="PostgresMetaDbContext"/> without a running database.</summary>
public sealed class PostgresMetaDbContextDesignTimeFactory : IDesignTimeDbContextFactory<PostgresMetaDbContext>
{
    public PostgresMetaDbContext CreateDbContext(string[] args) =>
        (PostgresMetaDbContext)new MetaDbContextFactory(MetadataProvider.PostgreSql, "Host=localhost;Database=metadata").CreateDbContext();
}
