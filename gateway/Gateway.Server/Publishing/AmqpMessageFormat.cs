using System.Globalization;
using System.Text;
using Gateway.Broker.Queues;
using Gateway.Log;
using Gateway.Protocol.Types;

namespace Gateway.Server.Publishing;

/// <summary>
/// The AMQP side of message expiry and dead-lettering (<see cref="IMessageFormat"/>): reads a stored
/// message's expiration and x-death, and builds the dead-lettered copy the way RabbitMQ 3.10's
/// rabbit_dead_letter does.
/// </summary>
internal sealed class AmqpMessageFormat : IMessageFormat
{
    public static AmqpMessageFormat Instance { get; } = new();

    public long? Expiration(StoredMessage message)
    {
        ReadOnlyMemory<byte> properties = StoredEnvelope.Decode(message.Properties).PropertyBytes;
        if ((BasicProperties.PeekFlags(properties.Span) & BasicProperties.ExpirationFlag) == 0)
        {
            return null;   // the common case: one flag bit, no parsing
        }

        return ParseExpiration(BasicProperties.Read(properties.Span).Expiration);
    }

    public byte Priority(StoredMessage message) =>
        BasicProperties.PeekPriority(StoredEnvelope.Decode(message.Properties).PropertyBytes.Span);

    public IEnumerable<KeyValuePair<string, object?>>? RoutingHeaders(ReadOnlyMemory<byte> storedProperties)
    {
        ReadOnlyMemory<byte> properties = StoredEnvelope.Decode(storedProperties).PropertyBytes;
        return (BasicProperties.PeekFlags(properties.Span) & BasicProperties.HeadersFlag) == 0
            ? null
            : Publishing.RoutingHeaders.From(BasicProperties.Read(properties.Span).Headers);
    }

    public IReadOnlyList<(string Queue, DeadLetterReason Reason)> Deaths(StoredMessage message)
    {
        ReadOnlyMemory<byte> properties = StoredEnvelope.Decode(message.Properties).PropertyBytes;
        if (Field(BasicProperties.Read(properties.Span).Headers, "x-death") is not IEnumerable<object?> deaths)
        {
            return [];
        }

        var result = new List<(string, DeadLetterReason)>();
        foreach (FieldTable death in deaths.OfType<FieldTable>())
        {
            if (Text(Field(death, "queue")) is { } queue && ReasonFromText(Text(Field(death, "reason"))) is { } reason)
            {
                result.Add((queue, reason));
            }
        }

        return result;
    }

    public DeadLetteredMessage DeadLetter(StoredMessage message, DeadLetterEvent death)
    {
        var (exchange, routingKey, propertyBytes) = StoredEnvelope.Decode(message.Properties);
        BasicProperties properties = BasicProperties.Read(propertyBytes.Span);
        var headers = new List<KeyValuePair<string, object?>>(properties.Headers ?? []);

        // The keys the message was routed with: its routing key and its CC keys (BCC never survives the publish).
        var originalKeys = new List<object?> { routingKey };
        if (Get(headers, "CC") is IEnumerable<object?> cc)
        {
            originalKeys.AddRange(cc.Select(Text).Where(k => k is not null));
        }

        IReadOnlyList<string> routeWith;
        if (death.DeadLetterRoutingKey is { } key)
        {
            routeWith = [key];
            headers.RemoveAll(h => h.Key == "CC");   // rabbit_dead_letter: an explicit dead-letter key replaces the CC keys
        }
        else
        {
            routeWith = [.. originalKeys.Select(k => Text(k)!)];
        }

        AddDeath(headers, death, exchange, originalKeys, properties.Expiration);
        foreach (var (name, value) in new[] { ("x-first-death-reason", ReasonText(death.Reason)), ("x-first-death-queue", death.Queue), ("x-first-death-exchange", exchange) })
        {
            if (Get(headers, name) is null)
            {
                headers.Add(new(name, value));
            }
        }

        // The copy must not expire again for the same reason: RabbitMQ drops the expiration property.
        BasicProperties copy = properties with { Headers = new FieldTable(headers), Expiration = null };
        byte[] copyBytes = copy.ToBytes();
        return new DeadLetteredMessage(
            StoredEnvelope.Encode(death.DeadLetterExchange, routeWith[0], copyBytes),
            routeWith,
            Publishing.RoutingHeaders.From(new FieldTable(headers.Where(h => h.Key is not ("CC" or "BCC")))),
            StoredEnvelope.RoutingKeyHash(routeWith[0]));
    }

    public long DeliveryCount(StoredMessage message)
    {
        ReadOnlyMemory<byte> properties = StoredEnvelope.Decode(message.Properties).PropertyBytes;
        if ((BasicProperties.PeekFlags(properties.Span) & BasicProperties.HeadersFlag) == 0)
        {
            return 0;
        }

        return Field(BasicProperties.Read(properties.Span).Headers, DeliveryCountHeader) switch
        {
            long count => count,
            int count => count,
            short count => count,
            byte count => count,
            sbyte count => count,
            _ => 0,
        };
    }

    public ReadOnlyMemory<byte> WithDeliveryCount(StoredMessage message, long count)
    {
        var (exchange, routingKey, propertyBytes) = StoredEnvelope.Decode(message.Properties);
        return StoredEnvelope.Encode(exchange, routingKey, WithDeliveryCount(propertyBytes, count));
    }

    /// <summary>The properties with the x-delivery-count header set (a long, as RabbitMQ's quorum queues add it), replacing one already there.</summary>
    public static byte[] WithDeliveryCount(ReadOnlyMemory<byte> propertyBytes, long count)
    {
        BasicProperties properties = BasicProperties.Read(propertyBytes.Span);
        var headers = new List<KeyValuePair<string, object?>>(properties.Headers ?? []);
        headers.RemoveAll(h => h.Key == DeliveryCountHeader);
        headers.Add(new(DeliveryCountHeader, count));
        return (properties with { Headers = new FieldTable(headers) }).ToBytes();
    }

    public const string DeliveryCountHeader = "x-delivery-count";

    /// <summary>
    /// RabbitMQ's rules for the expiration property (rabbit_basic:parse_expiration): Erlang's
    /// string:to_integer (optional sign, then digits, nothing after), not negative. Null when absent;
    /// otherwise the value, or <see cref="FormatException"/> carrying RabbitMQ's reason as its ~p prints
    /// it (no_integer, {leftover_string,"x"}, {value_negative,-1}).
    /// </summary>
    public static long? ParseExpiration(string? expiration)
    {
        if (expiration is null)
        {
            return null;
        }

        int digitsStart = expiration.Length > 0 && expiration[0] is '+' or '-' ? 1 : 0;
        int end = digitsStart;
        while (end < expiration.Length && char.IsAsciiDigit(expiration[end]))
        {
            end++;
        }

        if (end == digitsStart)
        {
            throw new FormatException("no_integer");
        }

        if (end < expiration.Length)
        {
            throw new FormatException($"{{leftover_string,\"{expiration[end..]}\"}}");
        }

        // RabbitMQ 3.10 takes any non-negative integer here (4294967296 and beyond are accepted, unlike
        // x-message-ttl); one too long for a long is as good as never.
        if (!long.TryParse(expiration, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms))
        {
            return expiration[0] == '-' ? throw new FormatException($"{{value_negative,{expiration}}}") : long.MaxValue;
        }

        return ms < 0 ? throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{{value_negative,{ms}}}")) : ms;
    }


    /// <summary>
    /// rabbit_dead_letter:update_x_death_header: one entry per (queue, reason), newest first; a repeat
    /// death increments its entry's count and moves it to the front.
    /// </summary>
    private static void AddDeath(List<KeyValuePair<string, object?>> headers, DeadLetterEvent death, string exchange, List<object?> routingKeys, string? expiration)
    {
        string reason = ReasonText(death.Reason);
        var deaths = Get(headers, "x-death") is IEnumerable<object?> existing ? existing.ToList() : [];
        int index = deaths.FindIndex(d => d is FieldTable t && Text(Field(t, "queue")) == death.Queue && Text(Field(t, "reason")) == reason);
        FieldTable entry;
        if (index >= 0)
        {
            var previous = (FieldTable)deaths[index]!;
            long count = Field(previous, "count") switch { long l => l, int i => i, _ => 1 };
            entry = new FieldTable([new("count", count + 1), .. previous.Where(e => e.Key != "count")]);
            deaths.RemoveAt(index);
        }
        else
        {
            entry = new FieldTable
            {
                { "count", 1L },
                { "reason", reason },
                { "queue", death.Queue },
                { "time", new AmqpTimestamp(death.Time.ToUnixTimeSeconds()) },
                { "exchange", exchange },
                { "routing-keys", routingKeys.Select(k => (object?)Text(k)).ToList() },
            };
            if (expiration is not null)
            {
                entry.Add("original-expiration", expiration);
            }
        }

        deaths.Insert(0, entry);
        int at = headers.FindIndex(h => h.Key == "x-death");
        if (at >= 0)
        {
            headers[at] = new("x-death", deaths);   // keeps its place among the headers
        }
        else
        {
            headers.Add(new("x-death", deaths));
        }
    }

    private static object? Field(FieldTable? table, string key) => table is not null && table.TryGetValue(key, out object? value) ? value : null;

    /// <summary>The first value of <paramref name="key"/> (RabbitMQ's table_lookup), or null.</summary>
    private static object? Get(List<KeyValuePair<string, object?>> headers, string key) =>
        headers.FirstOrDefault(h => h.Key == key).Value;

    private static string ReasonText(DeadLetterReason reason) => reason switch
    {
        DeadLetterReason.Rejected => "rejected",
        DeadLetterReason.Expired => "expired",
        DeadLetterReason.MaxLength => "maxlen",
        _ => "delivery_limit",
    };

    private static DeadLetterReason? ReasonFromText(string? text) => text switch
    {
        "rejected" => DeadLetterReason.Rejected,
        "expired" => DeadLetterReason.Expired,
        "maxlen" => DeadLetterReason.MaxLength,
        "delivery_limit" => DeadLetterReason.DeliveryLimit,
        _ => null,
    };

    private static string? Text(object? value) => value switch
    {
        string s => s,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        _ => null,
    };
}
