using System.Collections.Immutable;

namespace Gateway.Broker.Routing;

/// <summary>How a publish's routing ended.</summary>
public enum RouteStatus
{
    /// <summary>The exchange exists; <see cref="RoutingResult.Queues"/> holds every destination, possibly none (unroutable).</summary>
    Routed,

    /// <summary>No exchange of that name in the vhost: basic.publish fails with 404 NOT_FOUND "no exchange 'x' in vhost 'v'".</summary>
    ExchangeNotFound,

    /// <summary>
    /// A CC or BCC header is not an array: basic.publish fails with 406 PRECONDITION_FAILED and
    /// <see cref="RoutingResult.InvalidHeaderExplanation"/>.
    /// </summary>
    InvalidRoutingHeader,
}

/// <summary>
/// The outcome of routing one publish. A client publish is checked in RabbitMQ's order (rabbit_channel's
/// basic.publish): <see cref="RouteStatus.ExchangeNotFound"/> (404), then <see cref="ExchangeIsInternal"/>
/// (403), then the caller's own checks on the message (topic permissions, expiration), then
/// <see cref="RouteStatus.InvalidRoutingHeader"/> (406); only then are <see cref="Queues"/> delivered to.
/// </summary>
public sealed class RoutingResult
{
    private static readonly IReadOnlySet<string> NoQueues = ImmutableHashSet<string>.Empty;

    private RoutingResult(
        RouteStatus status,
        bool exchangeIsInternal,
        IReadOnlySet<string> queues,
        bool removeBccHeader,
        string? invalidHeaderExplanation,
        long? delayMilliseconds = null)
    {
        DelayMilliseconds = delayMilliseconds;
        Status = status;
        ExchangeIsInternal = exchangeIsInternal;
        Queues = queues;
        RemoveBccHeader = removeBccHeader;
        InvalidHeaderExplanation = invalidHeaderExplanation;
    }

    public RouteStatus Status { get; }

    /// <summary>
    /// The exchange published to is internal. A client's basic.publish must be refused with 403 ACCESS_REFUSED
    /// "cannot publish to internal exchange 'x' in vhost 'v'"; <see cref="Queues"/> is still filled, because the
    /// broker itself may route through an internal exchange (RabbitMQ's dead-lettering does not check the flag).
    /// </summary>
    public bool ExchangeIsInternal { get; }

    /// <summary>Every queue the message goes to, each once however many bindings or paths reach it.</summary>
    public IReadOnlySet<string> Queues { get; }

    /// <summary>The message has a BCC header, which must be removed before it is stored or delivered.</summary>
    public bool RemoveBccHeader { get; }

    /// <summary>
    /// For <see cref="RouteStatus.InvalidRoutingHeader"/>: the explanation RabbitMQ sends with the 406, e.g.
    /// <c>invalid message: {unacceptable_type_in_header,"CC",longstr}</c>.
    /// </summary>
    public string? InvalidHeaderExplanation { get; }

    /// <summary>
    /// Set when the exchange published to is an x-delayed-message exchange, the caller asked for delays to be honoured,
    /// and the message's x-delay asks for one: the message is to be routed through that exchange after this many
    /// milliseconds. <see cref="Queues"/> then holds only what the exchange's alternate exchange reached now.
    /// </summary>
    public long? DelayMilliseconds { get; }

    internal static RoutingResult ExchangeNotFound { get; } = new(RouteStatus.ExchangeNotFound, false, NoQueues, false, null);

    internal static RoutingResult Routed(bool exchangeIsInternal, IReadOnlySet<string> queues, bool removeBccHeader, long? delayMilliseconds = null) =>
        new(RouteStatus.Routed, exchangeIsInternal, queues, removeBccHeader, null, delayMilliseconds);

    internal static RoutingResult InvalidRoutingHeader(bool exchangeIsInternal, string reason) =>
        new(RouteStatus.InvalidRoutingHeader, exchangeIsInternal, NoQueues, false, "invalid message: " + reason);
}
