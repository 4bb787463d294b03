namespace Gateway.Server.Hosting;

/// <summary>
/// Gateway settings. Every default matches what RabbitMQ ships with, so an application that
/// worked against a stock RabbitMQ works here unchanged. Bound from the command line
/// (--port 5673), environment (GATEWAY_PORT=5673) or appsettings.json; see README "Configuration".
/// </summary>
public sealed record GatewayOptions
{
    /// <summary>Address to listen on. Default 0.0.0.0 (all interfaces), as RabbitMQ listens.</summary>
    public string Bind { get; init; } = "0.0.0.0";

    /// <summary>AMQP port. Default 5672; 0 picks a free port (tests).</summary>
    public int Port { get; init; } = 5672;

    /// <summary>
    /// HTTP port serving GET /metrics in the Prometheus text format, on <see cref="Bind"/>. Default 15692,
    /// the port of RabbitMQ's rabbitmq_prometheus plugin; 0 picks a free port (tests); negative (-1) turns it off.
    /// </summary>
    public int MetricsPort { get; init; } = 15692;

    /// <summary>AMQPS port, used only when <see cref="TlsCertificatePath"/> is set. Default 5671.</summary>
    public int TlsPort { get; init; } = 5671;

    /// <summary>PKCS#12 (.pfx) or PEM certificate for AMQPS. Default none: AMQPS is off.</summary>
    public string? TlsCertificatePath { get; init; }

    public string? TlsCertificatePassword { get; init; }

    /// <summary>PEM private key file when <see cref="TlsCertificatePath"/> is a PEM certificate.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>Where the gateway keeps its data (log segments, embedded metadata). Default ./data.</summary>
    public string DataDir { get; init; } = "data";

    public const string EmbeddedMetadata = "embedded";

    /// <summary>
    /// Metadata location: "embedded" (the metadata store in-process on SQLite in <see cref="DataDir"/>,
    /// the default) or the http(s) URL of a meta-service.
    /// </summary>
    public string Metadata { get; init; } = EmbeddedMetadata;

    /// <summary>API token for a remote meta-service (its --token). Default none.</summary>
    public string? MetadataToken { get; init; }

    /// <summary>
    /// Comma-separated http(s) URLs of the controller's instances (the active one and its standby). Default
    /// none: the gateway runs standalone, with no pauses or rate limits. With one, the control agent
    /// heartbeats to it and applies the desired state it sends (docs/control-agent.md). <see cref="EmbeddedController"/>
    /// runs a controller inside the gateway process instead (single-node deployments), on <see cref="ControllerPort"/>.
    /// </summary>
    public string? Controller { get; init; }

    public const string EmbeddedController = "embedded";

    /// <summary>HTTP port of the embedded controller (<c>--controller embedded</c>); 0 picks a free one. Default 15690, the controller's own default.</summary>
    public int ControllerPort { get; init; } = 15690;

    /// <summary>API token for the controller (its --token); required with <see cref="Controller"/>.</summary>
    public string? ControllerToken { get; init; }

    /// <summary>This gateway's name in the controller's registry, unique in the cluster. Default host name:AMQP port.</summary>
    public string? NodeId { get; init; }

    /// <summary>
    /// The AMQP endpoint (host:port) clients and operators are told to use for this gateway. Default the bind
    /// address and the bound port, with an any-address bind (0.0.0.0, ::) replaced by the host name.
    /// </summary>
    public string? Advertise { get; init; }

    /// <summary>Milliseconds between heartbeats to the controller. Default 1000; tests use less.</summary>
    public int ControllerHeartbeatMs { get; init; } = 1000;

    /// <summary>
    /// Largest message body accepted; a bigger one closes the channel with 406 PRECONDITION_FAILED.
    /// RabbitMQ's max_message_size default (128 MiB).
    /// </summary>
    public long MaxMessageSize { get; init; } = 134_217_728;

    /// <summary>
    /// Bytes of published messages one connection may have waiting for the log before the gateway stops
    /// reading from it (TCP back-pressure). Bounds a publisher's memory, which the per-channel count of
    /// appends in flight alone does not for large messages. Default 64 MiB; a message larger than this
    /// still goes through, alone.
    /// </summary>
    public long MaxPublishBytesInFlight { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Milliseconds a delivery may stay unacknowledged before its channel is closed with 406 (RabbitMQ's
    /// consumer_timeout; default 1 800 000 = 30 minutes; 0 turns it off). A queue's x-consumer-timeout
    /// overrides it.
    /// </summary>
    public long ConsumerTimeoutMs { get; init; } = 1_800_000;

    /// <summary>connection.tune channel-max. RabbitMQ default 2047.</summary>
    public ushort ChannelMax { get; init; } = 2047;

    /// <summary>connection.tune frame-max. RabbitMQ default 131072.</summary>
    public uint FrameMax { get; init; } = 131072;

    /// <summary>connection.tune heartbeat in seconds. RabbitMQ default 60; 0 disables.</summary>
    public ushort HeartbeatSeconds { get; init; } = 60;

    /// <summary>Time allowed from TCP accept to connection.open. RabbitMQ's handshake_timeout is 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait for connection.close-ok after sending connection.close (RabbitMQ: 30 s).</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The cluster_name server property. RabbitMQ defaults to rabbit@host.</summary>
    public string ClusterName { get; init; } = $"gateway@{Environment.MachineName}";

    /// <summary>
    /// Users that may only log in over loopback, like RabbitMQ's loopback_users (default [guest]),
    /// so the well-known default password is useless from another host.
    /// </summary>
    public IReadOnlyList<string> LoopbackUsers { get; init; } = ["guest"];
}
