using System.Globalization;
using Controller.Contracts;

namespace Controller.Service.Hosting;

/// <summary>
/// The controller's settings; every one is a command-line switch or a <c>CONTROLLER_</c> environment variable
/// (the switch wins). Defaults are in the property docs.
/// </summary>
public sealed record ControllerOptions
{
    /// <summary>Listen address (<c>--bind</c>, <c>CONTROLLER_BIND</c>). Default 0.0.0.0.</summary>
    public string Bind { get; init; } = "0.0.0.0";

    /// <summary>HTTP port (<c>--port</c>, <c>CONTROLLER_PORT</c>); 0 picks a free one. Default 15690.</summary>
    public int Port { get; init; } = ControllerRoutes.DefaultPort;

    /// <summary>
    /// A PostgreSQL connection string (<c>--database</c>, <c>CONTROLLER_DATABASE</c>): the metadata service's
    /// database, which the controller shares (its tables are prefixed <c>controller_</c>). Default none: SQLite.
    /// </summary>
    public string? Database { get; init; }

    /// <summary>The SQLite file (<c>--sqlite</c>, <c>CONTROLLER_SQLITE</c>). Default <c>{DataDir}/controller.db</c>.</summary>
    public string? Sqlite { get; init; }

    /// <summary>Where the default SQLite file lives (<c>--data-dir</c>, <c>CONTROLLER_DATA_DIR</c>). Default <c>./data</c>.</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>The bearer token every <c>/api</c> request must carry (<c>--token</c>, <c>CONTROLLER_TOKEN</c>). Required.</summary>
    public string Token { get; init; } = "";

    /// <summary>This instance's name in the lease and in answers (<c>--instance-id</c>, <c>CONTROLLER_INSTANCE_ID</c>). Default hostname-pid.</summary>
    public string? InstanceId { get; init; }

    /// <summary>
    /// The URL other parties should use to reach this instance (<c>--advertise-url</c>, <c>CONTROLLER_ADVERTISE_URL</c>):
    /// a standby names the leader by it. Default <c>http://{Bind, or 127.0.0.1 for a wildcard}:{the bound port}</c>.
    /// </summary>
    public string? AdvertiseUrl { get; init; }

    /// <summary>How long a leader lease lasts without renewal (<c>--lease-seconds</c>, <c>CONTROLLER_LEASE_SECONDS</c>). Default 5 s.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A gateway whose last heartbeat is older than this is lost (<c>--node-timeout-seconds</c>,
    /// <c>CONTROLLER_NODE_TIMEOUT_SECONDS</c>). Default 5 s.
    /// </summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest a state long poll is held, whatever waitMs asks. Default 30 s (the contract's limit).</summary>
    public TimeSpan MaxLongPollWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a start waits for a PostgreSQL server that is not reachable yet. Default 60 s.</summary>
    public TimeSpan DatabaseStartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>True when the state lives in PostgreSQL, false for SQLite.</summary>
    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Database);

    public string SqlitePath => Sqlite ?? Path.Combine(DataDir, "controller.db");

    public string EffectiveInstanceId =>
        string.IsNullOrWhiteSpace(InstanceId)
            ? $"{Environment.MachineName}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}"
            : InstanceId;

    /// <summary>Renewals come three times per lease, so one or two lost round trips do not cost the lease.</summary>
    public TimeSpan LeaseRenewInterval => LeaseDuration / 3;

    /// <summary>The advertised URL once the port is known (port 0 resolved to the bound one).</summary>
    public string EffectiveAdvertiseUrl(int boundPort)
    {
        if (!string.IsNullOrWhiteSpace(AdvertiseUrl))
        {
            return AdvertiseUrl.TrimEnd('/');
        }

        var host = Bind is "0.0.0.0" or "::" or "[::]" or "*" or "+" ? "127.0.0.1" : Bind;
        if (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('['))
        {
            host = $"[{host}]";
        }

        return $"http://{host}:{boundPort.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Token))
        {
            throw new ArgumentException("an API token is required (--token or CONTROLLER_TOKEN)");
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"--port must be 0..65535, not {Port}");
        }

        if (LeaseDuration < TimeSpan.FromMilliseconds(300))
        {
            throw new ArgumentException("--lease-seconds must be at least 0.3");
        }

        if (NodeTimeout < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentException("--node-timeout-seconds must be at least 0.1");
        }

        if (AdvertiseUrl is { Length: > 0 } url &&
            !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            throw new ArgumentException($"--advertise-url must be an http(s) URL, not '{url}'");
        }
    }
}
