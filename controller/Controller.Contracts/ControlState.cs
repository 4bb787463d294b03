namespace Controller.Contracts;

/// <summary>
/// The desired state one gateway enforces: the pauses that concern it and its shares of the global rate
/// limits. A gateway keeps enforcing the last one it received while it cannot reach a controller.
/// </summary>
/// <param name="ETag">Changes whenever anything in the state changes (a hash of the rest).</param>
public sealed record ControlState(
    string ETag,
    IReadOnlyList<PauseRule> Pauses,
    IReadOnlyList<ConsumeLimitShare> ConsumeLimits,
    IReadOnlyList<PublishLimitShare> PublishLimits)
{
    public static ControlState Empty { get; } = new("empty", [], [], []);
}

/// <summary>
/// Consumers of <see cref="Queue"/> receive nothing while the rule is in force: all of them when neither
/// scope is set, else those whose connection comes from <see cref="ClientAddress"/> (an IP address, or a
/// CIDR block such as 10.1.0.0/16) and/or carries <see cref="ConnectionName"/> (exact match); when both
/// are set, both must match.
/// </summary>
public sealed record PauseRule(string Id, string VHost, string Queue, string? ClientAddress, string? ConnectionName, DateTimeOffset CreatedAt);

/// <summary>What an operator sends to pause; see <see cref="PauseRule"/> for the scope.</summary>
public sealed record PauseRequest(string VHost, string Queue, string? ClientAddress = null, string? ConnectionName = null);

/// <summary>Answer to a resume or other removal: how many rules went.</summary>
public sealed record RemovedReply(int Removed);

/// <summary>A queue's consume rate limit, global across every gateway that serves it.</summary>
public sealed record ConsumeLimit(string VHost, string Queue, double MessagesPerSecond);

/// <summary>A publish rate limit for a whole vhost (<see cref="Exchange"/> null) or one exchange of it ("" is the default exchange).</summary>
public sealed record PublishLimit(string VHost, string? Exchange, double MessagesPerSecond);

/// <summary>One gateway's part of a <see cref="ConsumeLimit"/>: it delivers from the queue at most <see cref="SharePerSecond"/>.</summary>
public sealed record ConsumeLimitShare(string VHost, string Queue, double GlobalPerSecond, double SharePerSecond);

/// <summary>One gateway's part of a <see cref="PublishLimit"/>: it accepts at most <see cref="SharePerSecond"/> publishes.</summary>
public sealed record PublishLimitShare(string VHost, string? Exchange, double GlobalPerSecond, double SharePerSecond);
