using RabbitMQ.Client;

namespace CompatSuite.Fixtures;

/// <summary>The broker under test, taken from AMQP_URL (RabbitMQ or the gateway; the scenarios cannot tell).</summary>
public static class Broker
{
    public const string DefaultUrl = "amqp://guest:guest@127.0.0.1:5672/";

    public static Uri Url { get; } = new(Environment.GetEnvironmentVariable("AMQP_URL") is { Length: > 0 } url ? url : DefaultUrl);

    public static string Host => Url.Host;

    public static int Port => Url.IsDefaultPort || Url.Port <= 0 ? 5672 : Url.Port;

    /// <summary>A factory for the broker with recovery off, so a failure shows as a failure.</summary>
    public static ConnectionFactory Factory() => new()
    {
        Uri = Url,
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
    };

    public static Task<IConnection> ConnectAsync(string? clientProvidedName = null) =>
        Factory().CreateConnectionAsync(clientProvidedName ?? "compat-suite");
}
