using Controller.Service.Hosting;
using Microsoft.Data.Sqlite;
using TestSupport;

namespace Controller.Tests.Support;

/// <summary>A SQLite file in a fresh temporary directory, deleted afterwards.</summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "controller-" + Guid.NewGuid().ToString("N")[..12]);

    public string FilePath => Path.Combine(_directory, "controller.db");

    public ControllerOptions Select(ControllerOptions options) => options with { Sqlite = FilePath, Database = null };

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

/// <summary>One PostgreSQL server for every PostgreSQL test class of this project; each test takes a fresh database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Controller on PostgreSQL";
}
