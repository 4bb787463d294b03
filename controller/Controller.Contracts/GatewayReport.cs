namespace Controller.Contracts;

/// <summary>
/// A gateway's heartbeat: who it is and what it serves right now. Rates are messages per second over the
/// interval since the gateway's previous report.
/// </summary>
/// <param name="NodeId">Stable name of the gateway node (<c>--node-id</c>), unique in the cluster.</param>
/// <param name="AmqpEndpoint">host:port where clients reach it.</param>
/// <param name="MetricsUrl">Its Prometheus scrape URL, when metrics are on.</param>
/// <param name="AppliedETag">ETag of the <see cref="ControlState"/> it enforces now; null before it got one.</param>
public sealed record GatewayReport(
    string NodeId,
    string AmqpEndpoint,
    string? MetricsUrl,
    DateTimeOffset StartedAt,
    string? AppliedETag,
    int Connections,
    int Channels,
    IReadOnlyList<QueueReport> Queues,
    IReadOnlyList<ConsumerReport> Consumers,
    IReadOnlyList<PublishReport> Publishing);

/// <summary>One queue as one gateway serves it.</summary>
/// <param name="Paused">True when a pause rule without a scope stops the whole queue on this gateway.</param>
/// <param name="ConsumeLimitPerSecond">This gateway's share of the queue's consume limit, when it has one.</param>
public sealed record QueueReport(
    string VHost,
    string Queue,
    long Ready,
    long Unacked,
    int Consumers,
    double PublishRate,
    double DeliverRate,
    double AckRate,
    double RedeliverRate,
    bool Paused,
    double? ConsumeLimitPerSecond);

/// <summary>One consumer (basic.consume) on one gateway.</summary>
/// <param name="ClientAddress">The client's IP address, without the port.</param>
/// <param name="ConnectionName">The client's <c>connection_name</c> client property, when it sent one.</param>
/// <param name="Paused">True when a pause rule matches this consumer.</param>
public sealed record ConsumerReport(
    string VHost,
    string Queue,
    string ConsumerTag,
    string ClientAddress,
    string? ConnectionName,
    int Channel,
    int Prefetch,
    int Unacked,
    double DeliverRate,
    bool Paused);

/// <summary>Publishing into one exchange of a vhost on one gateway ("" is the default exchange).</summary>
/// <param name="Throttled">True when publishers into it waited for a publish limit during the interval.</param>
public sealed record PublishReport(string VHost, string Exchange, double PublishRate, bool Throttled);

/// <summary>The controller's answer to a heartbeat.</summary>
/// <param name="ETag">The ETag of the node's current <see cref="ControlState"/>: a gateway whose applied ETag differs fetches it.</param>
public sealed record HeartbeatReply(string ControllerId, string ETag);
