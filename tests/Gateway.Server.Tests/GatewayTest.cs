using TestSupport;

namespace Gateway.Server.Tests;

/// <summary>Base for test classes that get a fresh in-process gateway per test.</summary>
public abstract class GatewayTest : IAsyncLifetime
{
    protected GatewayFixture Gateway { get; private set; } = null!;

    /// <summary>Run the gateway on a fake clock (heartbeat and timeout tests).</summary>
    protected virtual bool UseFakeTime => false;

    public virtual async Task InitializeAsync() => Gateway = await GatewayFixture.StartAsync(UseFakeTime);

    public virtual async Task DisposeAsync() => await Gateway.DisposeAsync();
}
