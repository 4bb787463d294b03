namespace Controller.Contracts;

/// <summary>The controller's view of itself and the cluster (GET /api/status).</summary>
/// <param name="ControllerId">The instance that answered.</param>
/// <param name="LeaderId">The instance holding the leader lease, if any.</param>
/// <param name="LeaderUrl">Where the leader says it can be reached.</param>
/// <param name="Epoch">Increases every time the lease changes hands.</param>
public sealed record ControllerStatus(
    string ControllerId,
    bool IsLeader,
    string? LeaderId,
    string? LeaderUrl,
    long Epoch,
    DateTimeOffset? LeaseExpiresAt,
    int LiveNodes,
    int LostNodes,
    IReadOnlyList<PauseRule> Pauses,
    IReadOnlyList<ConsumeLimit> ConsumeLimits,
    IReadOnlyList<PublishLimit> PublishLimits);

/// <summary>A registered gateway. <see cref="Live"/> is false once its heartbeats stopped for longer than the controller's node timeout.</summary>
public sealed record NodeView(
    string NodeId,
    string AmqpEndpoint,
    string? MetricsUrl,
    bool Live,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    bool InSync,
    int Connections,
    int Channels,
    int Queues,
    int Consumers,
    double PublishRate,
    double DeliverRate);

/// <summary>A queue summed over the live nodes that serve it.</summary>
/// <param name="Paused">True when a pause rule without a scope is in force for it.</param>
/// <param name="PausedConsumers">Consumers a pause rule currently matches.</param>
/// <param name="ConsumeLimitPerSecond">Its global consume limit, when it has one.</param>
public sealed record QueueView(
    string VHost,
    string Queue,
    IReadOnlyList<string> Nodes,
    long Ready,
    long Unacked,
    int Consumers,
    double PublishRate,
    double DeliverRate,
    double AckRate,
    double RedeliverRate,
    bool Paused,
    int PausedConsumers,
    double? ConsumeLimitPerSecond);

/// <summary>A consumer as its gateway last reported it.</summary>
public sealed record ConsumerView(
    string NodeId,
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

/// <summary>Body of every 503 from a standby instance.</summary>
public sealed record StandbyProblem(string Error, string ControllerId, string? LeaderId, string? LeaderUrl);
