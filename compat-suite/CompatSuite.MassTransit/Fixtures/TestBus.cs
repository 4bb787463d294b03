using MassTransit;

namespace CompatSuite.MassTransit.Fixtures;

/// <summary>
/// A started MassTransit bus on the broker under test, configured the way an application usually does it:
/// RabbitMQ transport, publisher confirmations on (Publish/Send complete only once the broker confirmed),
/// receive endpoints from the scenario. Disposing stops the bus.
/// </summary>
public sealed class TestBus : IAsyncDisposable
{
    private static readonly TimeSpan StartStopTimeout = TimeSpan.FromSeconds(30);

    private TestBus(IBusControl instance) => Instance = instance;

    public IBusControl Instance { get; }

    /// <summary>
    /// A bound for one Publish/Send/request: MassTransit retries a send whose channel the broker closed (a refused
    /// declare, say) without end, so a scenario would otherwise hang instead of failing.
    /// </summary>
    public static CancellationToken OperationTimeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public static async Task<TestBus> StartAsync(Action<IRabbitMqBusFactoryConfigurator> configureEndpoints)
    {
        IBusControl bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(Broker.Host, Broker.Port, Broker.VirtualHost, host =>
            {
                host.Username(Broker.UserName);
                host.Password(Broker.Password);
                host.PublisherConfirmation = true;
            });
            configureEndpoints(cfg);
        });
        using var timeout = new CancellationTokenSource(StartStopTimeout);
        await bus.StartAsync(timeout.Token);
        return new TestBus(bus);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StartStopTimeout);
        try
        {
            await Instance.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A bus that cannot stop in time (broker gone) must not hide the scenario's own result.
        }
    }
}
