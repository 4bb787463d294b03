using Controller.Contracts;
using Controller.Tests.Support;
using MetaService.Core;
using Npgsql;
using TestSupport;

namespace Controller.Tests;

/// <summary>The controller shares the meta-service's PostgreSQL database: own tables, own migrations history, in either start order.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SharedDatabaseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Controller_and_meta_service_migrate_one_database_side_by_side()
    {
        var database = await postgres.CreateDatabaseAsync();
        await MetadataStoreFactory.CreateAsync(database, MetadataProvider.PostgreSql);
        await using (var controller = await ControllerServer.StartLeaderAsync(o => o with { Database = database }))
        {
            await controller.Client.PauseAsync(new PauseRequest("/", "orders"));
        }

        // The meta-service starting again finds its own history intact, and the controller's rule is still there.
        var store = await MetadataStoreFactory.CreateAsync(database, MetadataProvider.PostgreSql);
        Assert.NotNull(await store.GetSnapshotAsync());
        await using var again = await ControllerServer.StartLeaderAsync(o => o with { Database = database });
        Assert.Single(await again.Client.GetPausesAsync());

        var tables = await TablesAsync(database);
        Assert.Contains("__controller_migrations", tables);
        Assert.Contains("__EFMigrationsHistory", tables);
        Assert.All(
            new[] { "controller_pause_rules", "controller_consume_limits", "controller_publish_limits", "controller_nodes", "controller_leader_lease" },
            table => Assert.Contains(table, tables));
        Assert.Equal(1, await ScalarAsync(database, "SELECT count(*) FROM __controller_migrations"));
    }

    private static async Task<List<string>> TablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
