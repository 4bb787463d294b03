using Gateway.Broker.Delivery;

namespace Gateway.Broker.Delays;

/// <summary>Where a delayed message goes when it comes due (see <see cref="DelayStore"/>).</summary>
/// <param name="VirtualHost">The virtual host of the exchange or queue.</param>
public abstract record DelayTarget(string VirtualHost)
{
    /// <summary>The exchange or queue whose pending messages this one is stored with (and dropped with).</summary>
    public abstract DelayOwner Owner { get; }
}

/// <summary>
/// Routed through <paramref name="Exchange"/> with <paramref name="RoutingKey"/> (and the message's headers, for the
/// headers type and CC) by the bindings that exist when it comes due: the x-delayed-message exchange.
/// </summary>
public sealed record ExchangeDelayTarget(string VirtualHost, string Exchange, string RoutingKey) : DelayTarget(VirtualHost)
{
    public override DelayOwner Owner => DelayOwner.Exchange(VirtualHost, Exchange);
}

/// <summary>Appended to <paramref name="Queue"/> alone when it comes due: delayed redelivery to the same queue.</summary>
public sealed record QueueDelayTarget(string VirtualHost, string Queue) : DelayTarget(VirtualHost)
{
    public override DelayOwner Owner => DelayOwner.Queue(VirtualHost, Queue);
}

/// <summary>What kind of object owns a set of delayed messages.</summary>
public enum DelayOwnerKind : byte
{
    /// <summary>An exchange (messages routed through it when due).</summary>
    Exchange = 1,

    /// <summary>A queue (messages appended to it when due).</summary>
    Queue = 2,
}

/// <summary>
/// The exchange or queue a delayed message belongs to. Each owner has its own log topic, so deleting the owner drops
/// its pending messages by deleting one topic, and a gateway start finds them again from the owners in the metadata.
/// </summary>
public readonly record struct DelayOwner(DelayOwnerKind Kind, string VirtualHost, string Name)
{
    public static DelayOwner Exchange(string virtualHost, string name) => new(DelayOwnerKind.Exchange, virtualHost, name);

    public static DelayOwner Queue(string virtualHost, string name) => new(DelayOwnerKind.Queue, virtualHost, name);
}

/// <summary>A queue a due message is appended to: its topic, and its dispatch state to wake (null in tests without a dispatcher).</summary>
public readonly record struct DelayDestination(string Topic, DispatchQueue? Queue);

/// <summary>A due delayed message reached no queue (its exchange routes nowhere now, or its queue is gone) and was dropped, as the plugin drops it.</summary>
public sealed class DelayedMessageDroppedException(DelayTarget target)
    : Exception($"a delayed message for {target} reached no queue when it came due and was dropped")
{
    public DelayTarget Target { get; } = target;
}
