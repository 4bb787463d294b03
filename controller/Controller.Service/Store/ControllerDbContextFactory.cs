using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Controller.Service.Store;

/// <summary>
/// Builds short-lived <see cref="ControllerDbContext"/>s for one database (one per operation), so it is safe to
/// share between threads. Both providers record migrations in <see cref="ControllerDbContext.MigrationsHistoryTable"/>.
/// </summary>
public sealed class ControllerDbContextFactory
{
    private readonly DbContextOptions<PostgresControllerDbContext>? _postgres;
    private readonly DbContextOptions<SqliteControllerDbContext>? _sqlite;

    private ControllerDbContextFactory(DbContextOptions<PostgresControllerDbContext>? postgres, DbContextOptions<SqliteControllerDbContext>? sqlite, string connectionString)
    {
        _postgres = postgres;
        _sqlite = sqlite;
        ConnectionString = connectionString;
    }

    public bool IsPostgres => _postgres is not null;

    public string ConnectionString { get; }

    public static ControllerDbContextFactory ForPostgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new DbContextOptionsBuilder<PostgresControllerDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable(ControllerDbContext.MigrationsHistoryTable))
            .Options;
        return new ControllerDbContextFactory(options, null, connectionString);
    }

    /// <param name="connectionStringOrPath">A SQLite connection string ("Data Source=…") or just the file's path.</param>
    public static ControllerDbContextFactory ForSqlite(string connectionStringOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionStringOrPath);
        var connectionString = connectionStringOrPath.Contains('=', StringComparison.Ordinal)
            ? new SqliteConnectionStringBuilder(connectionStringOrPath).ToString()
            : new SqliteConnectionStringBuilder { DataSource = connectionStringOrPath }.ToString();
        var options = new DbContextOptionsBuilder<SqliteControllerDbContext>()
            .UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable(ControllerDbContext.MigrationsHistoryTable))
            .Options;
        return new ControllerDbContextFactory(null, options, connectionString);
    }

    public ControllerDbContext CreateDbContext() =>
        _postgres is not null ? new PostgresControllerDbContext(_postgres) : new SqliteControllerDbContext(_sqlite!);
}

/// <summary>Lets `dotnet ef` build a <see cref="PostgresControllerDbContext"/> without a running database.</summary>
public sealed class PostgresControllerDbContextDesignTimeFactory : IDesignTimeDbContextFactory<PostgresControllerDbContext>
{
    public PostgresControllerDbContext CreateDbContext(string[] args) =>
        (PostgresControllerDbContext)ControllerDbContextFactory.ForPostgres("Host=localhost;Database=metadata").CreateDbContext();
}

/// <summary>Lets `dotnet ef` build a <see cref="SqliteControllerDbContext"/> without a database file.</summary>
public sealed class SqliteControllerDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SqliteControllerDbContext>
{
    public SqliteControllerDbContext CreateDbContext(string[] args) =>
        (SqliteControllerDbContext)ControllerDbContextFactory.ForSqlite("controller.db").CreateDbContext();
}
