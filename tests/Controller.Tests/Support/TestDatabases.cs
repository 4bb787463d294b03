using Controller.Service.Hosting;
using Microsoft.Data.Sqlite;
using TestSupport;

namespace Controller.Tests.Support;

/// <summary>A fresh database for one test; <see cref="CreateAsync"/> answers how options select it.</summary>
public interface ITestDatabase : IDisposable
{
    Task<Func<ControllerOptions, ControllerOptions>> CreateAsync();
}

/// <summary>A SQLite file in a fresh temporary directory, deleted afterwards.</summary>
public sealed class SqliteDatabase : ITestDatabase
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "controller-" + Guid.NewGuid().ToString("N")[..12]);

    public string FilePath => Path.Combine(_directory, "controller.db");

    public ControllerOptions Select(ControllerOptions options) => options with { Sqlite = FilePath, Database = null };

    public Task<Func<ControllerOptions, ControllerOptions>> CreateAsync() => Task.FromResult<Func<ControllerOptions, ControllerOptions>>(Select);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A fresh database on the shared throwaway PostgreSQL server (which drops it with itself).</summary>
public sealed class PostgresDatabase(PostgresFixture server) : ITestDatabase
{
    public async Task<Func<ControllerOptions, ControllerOptions>> CreateAsync()
    {
        var database = await server.CreateDatabaseAsync();
        return options => options with { Database = database, Sqlite = null };
    }

    public void Dispose()
    {
    }
}

/// <summary>One PostgreSQL server for every PostgreSQL test class of this project; each test takes a fresh database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Controller on PostgreSQL";
}
