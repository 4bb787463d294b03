using Microsoft.EntityFrameworkCore;

namespace MetaService.Core.Infrastructure;

/// <summary>The metadata database on PostgreSQL (Npgsql): JSON columns are jsonb.</summary>
public sealed class PostgresMetaDbContext : MetaDbContext
{
    public PostgresMetaDbContext(DbContextOptions<PostgresMetaDbContext> options)
        : base(options)
    {
    }

    public override MetadataProvider Provider => MetadataProvider.PostgreSql;

    protected override string? JsonColumnType => "jsonb";
}
