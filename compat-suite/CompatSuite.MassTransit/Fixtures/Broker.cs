using RabbitMQ.Client;

namespace CompatSuite.MassTransit.Fixtures;

/// <summary>The broker under test, taken from AMQP_URL (RabbitMQ or the gateway; the scenarios cannot tell).</summary>
public static class Broker
{
    public const string DefaultUrl = "amqp://guest:guest@127.0.0.1:5672/";

    public static Uri Url { get; } = new(Environment.GetEnvironmentVariable("AMQP_URL") is { Length: > 0 } url ? url : DefaultUrl);

    public static string Host => Url.Host;

    public static ushort Port => (ushort)(Url.IsDefaultPort || Url.Port <= 0 ? 5672 : Url.Port);

    /// <summary>The virtual host as AMQP names it: the URL path unescaped, "/" when the path is empty or "/".</summary>
    public static string VirtualHost => Uri.UnescapeDataString(Url.AbsolutePath.TrimStart('/')) is { Length: > 0 } vhost ? vhost : "/";

    public static string UserName => UserInfoPart(0) ?? "guest";

    public static string Password => UserInfoPart(1) ?? "guest";

    /// <summary>
    /// A plain RabbitMQ.Client connection for what a MassTransit application does not do itself: reading the
    /// _error queue back and deleting what a scenario declared. Recovery is off so a failure shows as one.
    /// </summary>
    public static Task<IConnection> ConnectAsync() => new ConnectionFactory
    {
        Uri = Url,
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
    }.CreateConnectionAsync("compat-suite-masstransit-admin");

    private static string? UserInfoPart(int index)
    {
        string[] parts = Url.UserInfo.Split(':', 2);
        return parts.Length > index && parts[index].Length > 0 ? Uri.UnescapeDataString(parts[index]) : null;
    }
}
