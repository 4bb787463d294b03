using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core.Infrastructure;

/// <summary>
/// Builds <see cref="MetaDbContext"/>s for one database. The options are built once; every context is
/// short-lived (one per store operation), so the factory is safe to share between threads.
/// </summary>
public sealed class MetaDbContextFactory
{
    private readonly DbContextOptions<PostgresMetaDbContext>? _postgres;
    private readonly DbContextOptions<SqliteMetaDbContext>? _sqlite;

    /// <param name="provider">The database kind.</param>
    /// <param name="connectionStringOrPath">
    /// An Npgsql connection string for PostgreSQL; for SQLite, a connection string ("Data Source=…") or
    /// just the path of the database file.
    /// </param>
    public MetaDbContextFactory(MetadataProvider provider, string connectionStringOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        Provider = provider;
        switch (provider)
        {
            case MetadataProvider.PostgreSql:
                ConnectionString = connectionStringOrPath;
                _postgres = new DbContextOptionsBuilder<PostgresMetaDbContext>()
                    .UseNpgsql(ConnectionString)
                    .Options;
                break;
            case MetadataProvider.Sqlite:
                ConnectionString = SqliteConnectionString(connectionStringOrPath);
                _sqlite = new DbContextOptionsBuilder<SqliteMetaDbContext>()
                    .UseSqlite(ConnectionString)
                    .Options;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown metadata provider");
        }
    }

    public MetadataProvider Provider { get; }

    /// <summary>The connection string in use (for SQLite, the normalised one).</summary>
    public string ConnectionString { get; }

    public MetaDbContext CreateDbContext() => Provider switch
    {
        MetadataProvider.PostgreSql => new PostgresMetaDbContext(_postgres!),
        _ => new SqliteMetaDbContext(_sqlite!),
    };

    /// <summary>A path becomes "Data Source=path"; a connection string is kept as it is.</summary>
    public static string SqliteConnectionString(string connectionStringOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        if (connectionStringOrPath.Contains('=', StringComparison.Ordinal))
        {
            return new SqliteConnectionStringBuilder(connectionStringOrPath).ToString();
        }

        return new SqliteConnectionStringBuilder { DataSource = connectionStringOrPath }.ToString();
    }
}
