using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Broker.Queues;

/// <summary>
/// The queue arguments that change how a queue behaves once declared, read from its record. Their
/// values were validated at declaration (the metadata service runs RabbitMQ's checks), so anything
/// unreadable here is treated as absent rather than refused.
/// </summary>
public sealed record QueueArguments(
    TimeSpan? MessageTtl,
    string? DeadLetterExchange,
    string? DeadLetterRoutingKey,
    long? MaxLength = null,
    QueueOverflow Overflow = QueueOverflow.DropHead,
    TimeSpan? Expires = null,
    bool SingleActiveConsumer = false,
    TimeSpan? ConsumerTimeout = null,
    bool Quorum = false,
    long? DeliveryLimit = null,
    long? MaxLengthBytes = null,
    byte? MaxPriority = null)
{
    public static QueueArguments None { get; } = new(null, null, null);

    /// <summary>Whether the queue has a length limit, in messages or in body bytes.</summary>
    public bool HasLengthLimit => MaxLength is not null || MaxLengthBytes is not null;

    /// <summary>
    /// Whether a queue holding <paramref name="ready"/> messages of <paramref name="readyBodyBytes"/> body bytes
    /// takes one more of <paramref name="bodyBytes"/>: always under drop-head (it trims afterwards); under
    /// reject-publish(-dlx), as RabbitMQ 3.10 decides (checked), full by count at x-max-length and by bytes when
    /// this body would take it past x-max-length-bytes. A transaction's commit adds what it already accepted.
    /// </summary>
    public bool Accepts(long ready, long readyBodyBytes, long bodyBytes = 0, int alreadyAccepted = 0, long alreadyAcceptedBytes = 0) =>
        !RefusesWhenFull
        || ((MaxLength is not { } max || ready + alreadyAccepted < max)
            && (MaxLengthBytes is not { } maxBytes || readyBodyBytes + alreadyAcceptedBytes + bodyBytes <= maxBytes));

    /// <summary>
    /// Whether a publish can be refused at all (a length limit with reject-publish(-dlx)): the publish path asks
    /// this first, so a queue without one costs no count read per message.
    /// </summary>
    public bool RefusesWhenFull => HasLengthLimit && Overflow != QueueOverflow.DropHead;

    /// <summary>
    /// How many messages drop-head should drop from the head now: the excess over x-max-length, or one at a
    /// time while over x-max-length-bytes (each dropped body changes the count); 0 within both limits.
    /// </summary>
    public long ToDropFromHead(long ready, long readyBodyBytes)
    {
        long excess = MaxLength is { } maxLength ? ready - maxLength : 0;
        return excess > 0 ? excess : MaxLengthBytes is { } maxBytes && readyBodyBytes > maxBytes ? 1 : 0;
    }

    /// <summary>Whether messages can expire in this queue by its own x-message-ttl (per-message expiration aside).</summary>
    public bool HasMessageTtl => MessageTtl is not null;

    public static QueueArguments From(JsonObject? arguments)
    {
        if (arguments is null || arguments.Count == 0)
        {
            return None;
        }

        TimeSpan? ttl = Integer(arguments, "x-message-ttl") is { } ms and >= 0 ? TimeSpan.FromMilliseconds(ms) : null;
        string? exchange = Text(arguments, "x-dead-letter-exchange");
        string? routingKey = Text(arguments, "x-dead-letter-routing-key");
        long? maxLength = Integer(arguments, "x-max-length") is { } max and >= 0 ? max : null;
        long? maxLengthBytes = Integer(arguments, "x-max-length-bytes") is { } maxBytes and >= 0 ? maxBytes : null;
        QueueOverflow overflow = Text(arguments, "x-overflow") switch
        {
            "reject-publish" => QueueOverflow.RejectPublish,
            "reject-publish-dlx" => QueueOverflow.RejectPublishDeadLetter,
            _ => QueueOverflow.DropHead,
        };
        TimeSpan? expires = Integer(arguments, "x-expires") is { } expiresMs and > 0 ? TimeSpan.FromMilliseconds(expiresMs) : null;
        bool singleActiveConsumer = arguments["x-single-active-consumer"] is JsonValue sac && sac.GetValueKind() == JsonValueKind.True;
        TimeSpan? consumerTimeout = Integer(arguments, "x-consumer-timeout") is { } timeoutMs and > 0 ? TimeSpan.FromMilliseconds(timeoutMs) : null;

        // Only quorum queues count deliveries (the metadata service refuses x-delivery-limit on classic queues,
        // as RabbitMQ does); RabbitMQ 3.10 does not validate the limit's value, so one that is not a
        // non-negative integer is treated as no limit.
        bool quorum = Text(arguments, "x-queue-type") == "quorum";
        long? deliveryLimit = quorum && Integer(arguments, "x-delivery-limit") is { } limit and >= 0 ? limit : null;

        // 0 is accepted and leaves the queue FIFO, as on RabbitMQ 3.10 (one priority level is a FIFO queue); above 255 is refused at declaration.
        byte? maxPriority = Integer(arguments, "x-max-priority") is { } priorities and > 0 and <= byte.MaxValue ? (byte)priorities : null;
        return ttl is null && exchange is null && maxLength is null && maxLengthBytes is null && expires is null && !singleActiveConsumer
            && consumerTimeout is null && !quorum && maxPriority is null
            ? None
            : new QueueArguments(
                ttl, exchange, routingKey, maxLength, overflow, expires, singleActiveConsumer, consumerTimeout, quorum, deliveryLimit, maxLengthBytes, maxPriority);
    }

    private static long? Integer(JsonObject arguments, string key) =>
        arguments[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number
        && long.TryParse(value.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long result)
            ? result
            : null;

    private static string? Text(JsonObject arguments, string key) =>
        arguments[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}

/// <summary>What a queue at its x-max-length does with one more message (x-overflow).</summary>
public enum QueueOverflow
{
    /// <summary><c>drop-head</c> (the default): the oldest ready messages leave, dead-lettered with reason maxlen.</summary>
    DropHead,

    /// <summary><c>reject-publish</c>: the new message is not enqueued here; a confirming publisher gets basic.nack.</summary>
    RejectPublish,

    /// <summary><c>reject-publish-dlx</c>: as reject-publish, and the rejected message is dead-lettered (reason maxlen).</summary>
    RejectPublishDeadLetter,
}
