namespace Controller.Service.Store;

/// <summary>A consume pause rule (table controller_pause_rules); the wire form is <c>Controller.Contracts.PauseRule</c>.</summary>
public sealed class PauseRuleRow
{
    public required string Id { get; set; }

    public required string VHost { get; set; }

    public required string Queue { get; set; }

    /// <summary>An IP address or CIDR block in canonical form; null when the rule is not scoped by address.</summary>
    public string? ClientAddress { get; set; }

    public string? ConnectionName { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A queue's global consume rate limit (table controller_consume_limits).</summary>
public sealed class ConsumeLimitRow
{
    public required string VHost { get; set; }

    public required string Queue { get; set; }

    public double MessagesPerSecond { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A publish rate limit (table controller_publish_limits). <see cref="Scope"/> is "vhost" for the whole vhost
/// (then <see cref="Exchange"/> is "") or "exchange" for one exchange, where "" is the default exchange: key
/// columns cannot be null, and "" alone would not tell the default exchange from the whole vhost.
/// </summary>
public sealed class PublishLimitRow
{
    public const string VHostScope = "vhost";
    public const string ExchangeScope = "exchange";

    public required string VHost { get; set; }

    public required string Scope { get; set; }

    public required string Exchange { get; set; }

    public double MessagesPerSecond { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A gateway node as it last reported itself (table controller_nodes).</summary>
public sealed class NodeRow
{
    public required string NodeId { get; set; }

    public required string AmqpEndpoint { get; set; }

    public string? MetricsUrl { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>The last <c>GatewayReport</c> as JSON (jsonb on PostgreSQL).</summary>
    public required string LastReport { get; set; }
}

/// <summary>
/// The leader lease (table controller_leader_lease): one row, created by the migration with no holder, so every
/// election step is an update of that row under a row lock and never an insert race.
/// </summary>
public sealed class LeaderLeaseRow
{
    public const int SingletonId = 1;

    public int Id { get; set; }

    public string? HolderId { get; set; }

    public string? HolderUrl { get; set; }

    /// <summary>Incremented every time the lease changes holder.</summary>
    public long Epoch { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
