using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MetaService.Contracts;

namespace MetaService.Core.Semantics;

/// <summary>
/// Queue types and their arguments as RabbitMQ knows them (rabbit_classic_queue, rabbit_quorum_queue and
/// rabbit_stream_queue capabilities, rabbit_amqqueue:declare_args/0). Equivalence on redeclare only looks
/// at the keys the existing queue's type knows; everything else in the arguments is kept but ignored.
/// </summary>
internal static partial class QueueTypes
{
    public const string Classic = "classic";
    public const string Quorum = "quorum";
    public const string Stream = "stream";
    public const string QueueTypeKey = "x-queue-type";

    private const long MaxExpiry = 4294967295;
    private const int MaxPriority = 255;

    private static readonly string[] ClassicArguments =
    [
        "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-length",
        "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-version",
        "x-single-active-consumer", "x-queue-type", "x-queue-master-locator", "x-queue-leader-locator",
        "x-consumer-timeout",
    ];

    private static readonly string[] QuorumArguments =
    [
        "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy", "x-expires", "x-max-length",
        "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes", "x-overflow",
        "x-single-active-consumer", "x-queue-type", "x-quorum-initial-group-size", "x-delivery-limit",
        "x-message-ttl", "x-queue-leader-locator", "x-consumer-timeout",
    ];

    private static readonly string[] StreamArguments =
    [
        "x-max-length-bytes", "x-queue-type", "x-max-age", "x-stream-max-segment-size-bytes",
        "x-initial-cluster-size", "x-queue-leader-locator", "x-stream-filter-size-bytes",
    ];

    // Arguments the quorum and stream types refuse at declaration (RabbitMQ 3.10's check_invalid_arguments).
    private static readonly string[] QuorumRefused = ["x-max-priority", "x-queue-mode"];

    private static readonly string[] StreamRefused =
    [
        "x-expires", "x-message-ttl", "x-max-priority", "x-queue-mode", "x-overflow", "x-max-in-memory-length",
        "x-max-in-memory-bytes", "x-quorum-initial-group-size", "x-cancel-on-ha-failover",
    ];

    private static readonly string[] KnownTypes = [Classic, Quorum, Stream];
    private static readonly string[] OverflowModes = ["drop-head", "reject-publish", "reject-publish-dlx"];
    private static readonly string[] QueueModes = ["default", "lazy"];
    private static readonly string[] LeaderLocators = ["client-local", "balanced", "random", "least-leaders"];
    private static readonly string[] DeadLetterStrategies = ["at-most-once", "at-least-once"];

    /// <summary>The queue's type: its x-queue-type, or classic when there is none.</summary>
    public static string TypeOf(JsonObject arguments) =>
        AmqpValue.TryGetString(arguments[QueueTypeKey], out var type) && KnownTypes.Contains(type) ? type : Classic;

    /// <summary>The argument keys a queue type checks for equivalence.</summary>
    public static IReadOnlyList<string> ArgumentsOf(string type) => type switch
    {
        Quorum => QuorumArguments,
        Stream => StreamArguments,
        _ => ClassicArguments,
    };

    /// <summary>
    /// The checks RabbitMQ runs before creating a queue, in its order: the x-dead-letter-exchange type
    /// (rabbit_channel), the value of every known argument (rabbit_amqqueue:check_declare_arguments), then
    /// the queue type's own refusals (quorum / stream: arguments, auto-delete, exclusive, non-durable).
    /// </summary>
    public static void ValidateNewQueue(string virtualHost, string name, bool durable, bool autoDelete, string? exclusiveOwner, JsonObject arguments)
    {
        var resource = RabbitText.Queue(name, virtualHost);

        const string dlx = "x-dead-letter-exchange";
        if (arguments.TryGetPropertyValue(dlx, out var dlxValue) && !AmqpValue.TryGetString(dlxValue, out _))
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InvalidArgType(AmqpValue.TypeName(dlxValue), dlx, resource));
        }

        // x-queue-type first: it decides what the rest means.
        Check(arguments, QueueTypeKey, resource, CheckQueueType);
        Check(arguments, "x-expires", resource, CheckExpires);
        Check(arguments, "x-message-ttl", resource, CheckMessageTtl);
        Check(arguments, dlx, resource, v => StringOf(v, out _));
        Check(arguments, "x-dead-letter-routing-key", resource, v => StringOf(v, out _) ?? (arguments.ContainsKey(dlx) ? null : "routing_key_but_no_dlx_defined"));
        Check(arguments, "x-dead-letter-strategy", resource, v => OneOf(v, DeadLetterStrategies, "invalid_dlx_strategy"));
        Check(arguments, "x-max-length", resource, CheckNonNegative);
        Check(arguments, "x-max-length-bytes", resource, CheckNonNegative);
        Check(arguments, "x-max-in-memory-length", resource, CheckNonNegative);
        Check(arguments, "x-max-in-memory-bytes", resource, CheckNonNegative);
        Check(arguments, "x-max-priority", resource, CheckMaxPriority);
        Check(arguments, "x-overflow", resource, v => OneOf(v, OverflowModes, "invalid_overflow"));
        Check(arguments, "x-queue-mode", resource, v => OneOf(v, QueueModes, "invalid_queue_mode"));
        Check(arguments, "x-queue-version", resource, CheckQueueVersion);
        Check(arguments, "x-single-active-consumer", resource, CheckBool);
        Check(arguments, "x-quorum-initial-group-size", resource, CheckPositive);
        Check(arguments, "x-max-age", resource, CheckMaxAge);
        Check(arguments, "x-stream-max-segment-size-bytes", resource, CheckNonNegative);
        Check(arguments, "x-initial-cluster-size", resource, CheckPositive);
        Check(arguments, "x-queue-leader-locator", resource, v => OneOf(v, LeaderLocators, "invalid_queue_locator_arg"));

        var type = TypeOf(arguments);
        if (type == Classic)
        {
            return;
        }

        foreach (var key in type == Quorum ? QuorumRefused : StreamRefused)
        {
            if (arguments.ContainsKey(key))
            {
                throw new MetadataException(
                    MetadataException.PreconditionFailed,
                    RabbitText.InvalidArgForType(key, resource, type == Quorum ? "rabbit_quorum_queue" : "rabbit_stream_queue"));
            }
        }

        // Later RabbitMQ versions refuse x-overflow reject-publish-dlx on quorum queues; 3.10.8 accepts it (checked), and it is the judge.

        if (autoDelete)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InvalidProperty("auto-delete", resource));
        }

        if (exclusiveOwner is not null)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InvalidProperty("exclusive-owner", resource));
        }

        if (!durable)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InvalidProperty("non-durable", resource));
        }
    }

    private static void Check(JsonObject arguments, string key, string resource, Func<JsonNode?, string?> validate)
    {
        if (!arguments.TryGetPropertyValue(key, out var value))
        {
            return;
        }

        var error = validate(value);
        if (error is not null)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InvalidArg(key, resource, error));
        }
    }

    // Error terms are printed the way Erlang's ~p prints them: {unacceptable_type,longstr}, {value_negative,-1}, …

    private static string Unacceptable(JsonNode? value) => $"{{unacceptable_type,{AmqpValue.TypeName(value)}}}";

    private static string Term(string tag, long value) => string.Create(CultureInfo.InvariantCulture, $"{{{tag},{value}}}");

    private static string? IntegerOf(JsonNode? value, out long integer) =>
        AmqpValue.TryGetInteger(value, out integer) ? null : Unacceptable(value);

    private static string? StringOf(JsonNode? value, out string text) =>
        AmqpValue.TryGetString(value, out text) ? null : Unacceptable(value);

    private static string? CheckNonNegative(JsonNode? value) =>
        IntegerOf(value, out var v) ?? (v < 0 ? Term("value_negative", v) : null);

    private static string? CheckPositive(JsonNode? value) =>
        IntegerOf(value, out var v) ?? (v == 0 ? Term("value_zero", v) : v < 0 ? Term("value_negative", v) : null);

    private static string? CheckExpiry(long v) =>
        v < 0 ? Term("value_negative", v) : v > MaxExpiry ? Term("value_too_large", v) : null;

    private static string? CheckExpires(JsonNode? value) =>
        IntegerOf(value, out var v) ?? (v == 0 ? Term("value_zero", v) : CheckExpiry(v));

    private static string? CheckMessageTtl(JsonNode? value) => IntegerOf(value, out var v) ?? CheckExpiry(v);

    private static string? CheckMaxPriority(JsonNode? value) =>
        CheckNonNegative(value) ?? (AmqpValue.TryGetInteger(value, out var v) && v > MaxPriority ? Term("max_value_exceeded", v) : null);

    private static string? CheckQueueVersion(JsonNode? value) =>
        CheckNonNegative(value) ?? (AmqpValue.TryGetInteger(value, out var v) && v is not (1 or 2)
            ? string.Create(CultureInfo.InvariantCulture, $"\"unsupported queue version '{v}'\"")
            : null);

    private static string? CheckBool(JsonNode? value) =>
        AmqpValue.TypeName(value) == "bool" ? null : Unacceptable(value);

    private static string? OneOf(JsonNode? value, string[] allowed, string error) =>
        StringOf(value, out var text) ?? (allowed.Contains(text) ? null : error);

    private static string? CheckQueueType(JsonNode? value) =>
        StringOf(value, out var text) ?? (KnownTypes.Contains(text) ? null : $"\"unsupported queue type '{text}'\"");

    private static string? CheckMaxAge(JsonNode? value)
    {
        if (StringOf(value, out var text) is { } error)
        {
            return error;
        }

        var match = MaxAgePattern().Match(text);
        return match.Success && long.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var amount) && amount > 0
            ? null
            : "invalid_max_age";
    }

    [GeneratedRegex("^([0-9]+)(Y|M|D|h|m|s)$", RegexOptions.CultureInvariant)]
    private static partial Regex MaxAgePattern();
}
