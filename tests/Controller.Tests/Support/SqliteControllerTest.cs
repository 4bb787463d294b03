using Controller.Service.Hosting;

namespace Controller.Tests.Support;

/// <summary>A test with its own leading controller on its own SQLite file.</summary>
public abstract class SqliteControllerTest : IAsyncLifetime
{
    private readonly SqliteDatabase _database = new();
    private ControllerServer? _server;

    protected ControllerServer Server => _server ?? throw new InvalidOperationException("not started");

    protected SqliteDatabase Database => _database;

    /// <summary>Options on top of the database choice; tests that need short node timeouts override it.</summary>
    protected virtual ControllerOptions Configure(ControllerOptions options) => options;

    public async Task InitializeAsync() => _server = await ControllerServer.StartLeaderAsync(o => Configure(_database.Select(o)));

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _database.Dispose();
    }
}
