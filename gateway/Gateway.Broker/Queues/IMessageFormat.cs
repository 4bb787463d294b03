using Gateway.Log;

namespace Gateway.Broker.Queues;

/// <summary>
/// What expiry and dead-lettering need to know about a stored message's AMQP properties. The broker
/// does not know the wire format (it may reference only the log and the metadata contracts), so the
/// server supplies this.
/// </summary>
public interface IMessageFormat
{
    /// <summary>The message's own <c>expiration</c> property in milliseconds, or null when it has none.</summary>
    long? Expiration(StoredMessage message);

    /// <summary>The message's <c>priority</c> property, 0 when absent: a dead-lettered copy keeps it, and a priority queue it reaches files it by it.</summary>
    byte Priority(StoredMessage message) => 0;

    /// <summary>The queues and reasons of the message's earlier deaths (its <c>x-death</c> header), newest first.</summary>
    IReadOnlyList<(string Queue, DeadLetterReason Reason)> Deaths(StoredMessage message);

    /// <summary>
    /// The copy RabbitMQ publishes to the dead-letter exchange: exchange and routing key of the copy,
    /// <c>x-death</c> updated (count per queue and reason, newest first), <c>x-first-death-*</c> set once,
    /// <c>expiration</c> removed (kept as original-expiration in x-death), and the routing keys it is
    /// routed with (the queue's x-dead-letter-routing-key, else the original key and CC keys).
    /// </summary>
    DeadLetteredMessage DeadLetter(StoredMessage message, DeadLetterEvent death);

    /// <summary>The delivery count the stored message carries in its <c>x-delivery-count</c> header (graded redelivery writes it), 0 without one.</summary>
    long DeliveryCount(StoredMessage message);

    /// <summary>The stored properties (the server's envelope) of a copy whose <c>x-delivery-count</c> header is <paramref name="count"/>; exchange, routing key and every other property kept.</summary>
    ReadOnlyMemory<byte> WithDeliveryCount(StoredMessage message, long count);

    /// <summary>
    /// The headers of stored properties (the server's envelope) as plain values for routing, or null: a delayed message
    /// is routed when due through a headers exchange or with its CC keys (see Delays/DelayStore).
    /// </summary>
    IEnumerable<KeyValuePair<string, object?>>? RoutingHeaders(ReadOnlyMemory<byte> storedProperties) => null;
}

/// <summary>Why a message is dead-lettered; RabbitMQ's x-death reasons.</summary>
public enum DeadLetterReason
{
    /// <summary><c>rejected</c>: basic.reject or basic.nack with requeue=false.</summary>
    Rejected,

    /// <summary><c>expired</c>: its TTL (queue x-message-ttl or its own expiration) passed.</summary>
    Expired,

    /// <summary><c>maxlen</c>: dropped from the head of a queue over x-max-length(-bytes).</summary>
    MaxLength,

    /// <summary><c>delivery_limit</c>: returned more often than the quorum queue's x-delivery-limit.</summary>
    DeliveryLimit,
}

/// <summary>One death: where, why, when, and the queue's dead-letter target.</summary>
public sealed record DeadLetterEvent(
    string Queue, DeadLetterReason Reason, DateTimeOffset Time, string DeadLetterExchange, string? DeadLetterRoutingKey);

/// <summary>A dead-lettered copy ready to route and append.</summary>
/// <param name="Properties">The stored properties (the server's envelope) of the copy.</param>
/// <param name="RoutingKeys">Each key is routed through the dead-letter exchange; the copy goes once to every queue reached.</param>
/// <param name="Headers">The copy's headers for headers-exchange routing (no CC/BCC processing), or null.</param>
/// <param name="RoutingKeyHash">Index hash of the copy's routing key.</param>
public sealed record DeadLetteredMessage(
    ReadOnlyMemory<byte> Properties,
    IReadOnlyList<string> RoutingKeys,
    IEnumerable<KeyValuePair<string, object?>>? Headers,
    uint RoutingKeyHash);
