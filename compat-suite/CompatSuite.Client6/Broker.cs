using RabbitMQ.Client;

namespace CompatSuite.Client6;

/// <summary>The broker under test, taken from AMQP_URL (RabbitMQ or the gateway).</summary>
public static class Broker
{
    public const string DefaultUrl = "amqp://guest:guest@127.0.0.1:5672/";

    // Each open 6.x connection parks a thread-pool thread in its read loop, and the pool grows by about one
    // thread a second, so twenty connections would take twenty seconds to open. Start with a wider pool.
    static Broker() => ThreadPool.SetMinThreads(64, 64);

    public static Uri Url { get; } = new(Environment.GetEnvironmentVariable("AMQP_URL") is { Length: > 0 } url ? url : DefaultUrl);

    /// <summary>A factory for the broker with recovery off, so a failure shows as a failure.</summary>
    public static ConnectionFactory Factory() => new()
    {
        Uri = Url,
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
    };

    public static IConnection Connect(string clientProvidedName = "compat-suite-client6") =>
        Factory().CreateConnection(clientProvidedName);
}
