using Controller.Contracts;

namespace Gateway.Server.Control;

/// <summary>
/// The gateway's side of the controller: enforces a <see cref="ControlState"/> (pauses and rate-limit shares)
/// at the dispatch point and on the publish path, and reports what the gateway serves. The control agent
/// (Gateway.Host) feeds it what the controller sends and turns <see cref="Snapshot"/> into heartbeats;
/// tests drive it directly.
/// </summary>
public interface ITrafficControl
{
    /// <summary>The state in force; <see cref="ControlState.Empty"/> until one was applied.</summary>
    ControlState Current { get; }

    /// <summary>Replaces the state in force. Takes effect for the next delivery and the next publish; never drops or redelivers a message.</summary>
    void Apply(ControlState state);

    /// <summary>What the gateway serves now, with cumulative counters (the agent turns them into rates).</summary>
    TrafficSnapshot Snapshot();
}

/// <summary>Everything a heartbeat reports, counters cumulative since the gateway started.</summary>
public sealed record TrafficSnapshot(
    DateTimeOffset TakenAt,
    int Connections,
    int Channels,
    IReadOnlyList<QueueTraffic> Queues,
    IReadOnlyList<ConsumerTraffic> Consumers,
    IReadOnlyList<PublishTraffic> Publishing);

/// <summary>One served queue; <see cref="Published"/>, <see cref="Delivered"/>, <see cref="Acked"/>, <see cref="Redelivered"/> are cumulative.</summary>
public sealed record QueueTraffic(
    string VHost,
    string Queue,
    long Ready,
    long Unacked,
    int Consumers,
    long Published,
    long Delivered,
    long Acked,
    long Redelivered,
    bool Paused,
    double? ConsumeLimitPerSecond);

/// <summary>One consumer; <see cref="ConnectionId"/> keeps two consumers with the same tag on different connections apart.</summary>
public sealed record ConsumerTraffic(
    long ConnectionId,
    string VHost,
    string Queue,
    string ConsumerTag,
    string ClientAddress,
    string? ConnectionName,
    int Channel,
    int Prefetch,
    int Unacked,
    long Delivered,
    bool Paused);

/// <summary>Publishing into one exchange of a vhost ("" the default exchange); <see cref="ThrottledWaits"/> counts publishes that had to wait for a publish limit.</summary>
public sealed record PublishTraffic(string VHost, string Exchange, long Published, long ThrottledWaits);
