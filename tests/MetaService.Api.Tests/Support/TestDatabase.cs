using MetaService.Api.Hosting;
using MetaService.Core;
using Microsoft.Data.Sqlite;
using TestSupport;

namespace MetaService.Api.Tests.Support;

/// <summary>
/// One metadata database for one test: a SQLite file in a temporary directory, or a fresh database on
/// the throwaway PostgreSQL server. Services (in-process or child processes) and embedded stores opened
/// on it share its state, across restarts too.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public abstract string Kind { get; }

    /// <summary>The service options that select this database.</summary>
    public abstract MetaServiceOptions Select(MetaServiceOptions options);

    /// <summary>The command-line switches that select this database.</summary>
    public abstract IReadOnlyList<string> Switches { get; }

    /// <summary>An embedded store on this database, migrated and seeded as the service does at start.</summary>
    public async Task<EfMetadataStore> OpenStoreAsync()
    {
        var options = Select(new MetaServiceOptions());
        var store = options.UsesPostgres
            ? await MetadataStoreFactory.CreateAsync(options.Database!, MetadataProvider.PostgreSql)
            : await MetadataStoreFactory.CreateAsync(options.SqlitePath, MetadataProvider.Sqlite);
        await store.EnsureDefaultsAsync();
        return store;
    }

    public abstract ValueTask DisposeAsync();

    public override string ToString() => Kind;
}

public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "meta-api-" + Guid.NewGuid().ToString("N")[..12]);

    public SqliteTestDatabase()
    {
        Directory.CreateDirectory(_directory);
    }

    public string FilePath => Path.Combine(_directory, "metadata.db");

    public override string Kind => "SQLite";

    public override IReadOnlyList<string> Switches => ["--sqlite", FilePath];

    public override MetaServiceOptions Select(MetaServiceOptions options) => options with { Sqlite = FilePath, Database = null };

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

public sealed class PostgresTestDatabase : TestDatabase
{
    private PostgresTestDatabase(string connectionString)
    {
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public override string Kind => "PostgreSQL";

    public override IReadOnlyList<string> Switches => ["--database", ConnectionString];

    public static async Task<PostgresTestDatabase> CreateAsync(PostgresFixture server) => new(await server.CreateDatabaseAsync());

    public override MetaServiceOptions Select(MetaServiceOptions options) => options with { Database = ConnectionString, Sqlite = null };

    // The server and its databases go when the fixture is disposed.
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>One PostgreSQL server for every PostgreSQL test class of this project (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "MetaService.Api on PostgreSQL";
}
