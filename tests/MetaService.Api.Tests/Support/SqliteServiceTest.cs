using MetaService.Api.Hosting;
using MetaService.Core;

namespace MetaService.Api.Tests.Support;

/// <summary>A test class with its own SQLite database, the real service on it, and an embedded store beside it.</summary>
public abstract class SqliteServiceTest : IAsyncLifetime
{
    protected SqliteTestDatabase Database { get; } = new();

    protected ApiServer Server { get; private set; } = null!;

    protected EfMetadataStore Embedded { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Embedded = await Database.OpenStoreAsync();
        Server = await ApiServer.StartAsync(Database.Select(new MetaServiceOptions()));
    }

    public virtual async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}
