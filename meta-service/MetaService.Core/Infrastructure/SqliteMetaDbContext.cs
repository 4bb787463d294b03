using Microsoft.EntityFrameworkCore;

namespace MetaService.Core.Infrastructure;

/// <summary>The embedded metadata database on SQLite: JSON columns are TEXT.</summary>
public sealed class SqliteMetaDbContext : MetaDbContext
{
    public SqliteMetaDbContext(DbContextOptions<SqliteMetaDbContext> options)
        : base(options)
    {
    }

    public override MetadataProvider Provider => MetadataProvider.Sqlite;

    protected override string? JsonColumnType => null;
}
