using Controller.Service.Hosting;

namespace Controller.Tests.Support;

/// <summary>A test with its own leading controller on its own database (SQLite or PostgreSQL, as the subclass chooses).</summary>
public abstract class ControllerTest(ITestDatabase database) : IAsyncLifetime
{
    private ControllerServer? _server;

    protected ControllerServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>Options on top of the database choice; tests that need short node timeouts override it.</summary>
    protected virtual ControllerOptions Configure(ControllerOptions options) => options;

    public async Task InitializeAsync()
    {
        var select = await database.CreateAsync();
        _server = await ControllerServer.StartLeaderAsync(o => Configure(select(o)));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        database.Dispose();
    }
}
