using MetaService.Core;
using Microsoft.Data.Sqlite;

namespace MetaService.Tests;

/// <summary><see cref="MetadataStoreTests"/> on SQLite: a database file per test in a temporary directory.</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "metaservice-tests", Guid.NewGuid().ToString("N"));

    protected override MetadataProvider Provider => MetadataProvider.Sqlite;

    protected override Task<string> SharedDatabaseAsync() => Task.FromResult(Path.Combine(_directory, "metadata.db"));

    protected override Task<string> NewDatabaseAsync() => Task.FromResult(Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db"));

    protected override Task<string> AsAnotherProcessAsync(string connectionString) =>
        Task.FromResult($"Data Source={connectionString};Default Timeout=29");

    [Fact]
    public async Task The_database_file_is_in_WAL_mode_so_readers_never_wait_for_the_writer()
    {
        await using var connection = new SqliteConnection($"Data Source={ConnectionString}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    protected override void ReleaseConnections() => SqliteConnection.ClearAllPools();

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
