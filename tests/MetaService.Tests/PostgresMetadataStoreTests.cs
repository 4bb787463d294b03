using MetaService.Core;
using MetaService.Tests.Support;
using Npgsql;
using TestSupport;

namespace MetaService.Tests;

/// <summary><see cref="MetadataStoreTests"/> on PostgreSQL: a throwaway server, one database for this class.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMetadataStoreTests(PostgresFixture postgres) : MetadataStoreTests
{
    protected override MetadataProvider Provider => MetadataProvider.PostgreSql;

    protected override Task<string> SharedDatabaseAsync() => postgres.GetDatabaseAsync(nameof(PostgresMetadataStoreTests));

    protected override Task<string> NewDatabaseAsync() => postgres.CreateDatabaseAsync();

    protected override Task<string> AsAnotherProcessAsync(string connectionString) =>
        Task.FromResult(connectionString + ";Application Name=another-meta-service");

    protected override void ReleaseConnections() => NpgsqlConnection.ClearAllPools();

    public override Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return Task.CompletedTask;
    }
}
