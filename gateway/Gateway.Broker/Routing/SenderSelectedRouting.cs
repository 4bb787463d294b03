using System.Diagnostics.CodeAnalysis;

namespace Gateway.Broker.Routing;

/// <summary>
/// RabbitMQ's sender-selected distribution (https://www.rabbitmq.com/docs/sender-selected): the "CC" and
/// "BCC" headers, arrays of longstr, add routing keys that are routed exactly like the publish's own key,
/// through every exchange the message reaches. BCC is removed from the delivered message so receivers do
/// not see it. Follows rabbit_basic:header_routes/1 (3.x) and mc_amqpl (3.13+).
/// </summary>
internal static class SenderSelectedRouting
{
    public const string CcHeader = "CC";
    public const string BccHeader = "BCC";

    /// <summary>
    /// Reads the routing keys of a message: <paramref name="routingKey"/>, then CC's longstr elements, then
    /// BCC's. Elements of other types are skipped, as RabbitMQ's list comprehension skips them. A CC or BCC
    /// header that is not an array makes the message invalid; RabbitMQ closes the channel with 406
    /// "invalid message: {unacceptable_type_in_header,"CC",longstr}", CC checked first.
    /// </summary>
    /// <param name="hasBcc">Whether the message carries a BCC header, which must be removed before delivery.</param>
    /// <param name="invalidReason">The Erlang term RabbitMQ prints after "invalid message: ".</param>
    public static bool TryReadRoutingKeys(
        string routingKey,
        IEnumerable<KeyValuePair<string, object?>>? headers,
        [NotNullWhen(true)] out IReadOnlyList<string>? routingKeys,
        out bool hasBcc,
        [NotNullWhen(false)] out string? invalidReason)
    {
        var keys = new List<string> { routingKey };
        routingKeys = keys;
        invalidReason = null;
        hasBcc = false;
        if (headers is null)
        {
            return true;
        }

        if (TryFindFirst(headers, CcHeader, out var cc) && !TryAddKeys(CcHeader, cc, keys, out invalidReason))
        {
            routingKeys = null;
            return false;
        }

        hasBcc = TryFindFirst(headers, BccHeader, out var bcc);
        if (hasBcc && !TryAddKeys(BccHeader, bcc, keys, out invalidReason))
        {
            routingKeys = null;
            return false;
        }

        return true;
    }

    /// <summary>The first entry of a name, as rabbit_misc:table_lookup/2 finds it.</summary>
    private static bool TryFindFirst(IEnumerable<KeyValuePair<string, object?>> headers, string name, out object? value)
    {
        foreach (var header in headers)
        {
            if (header.Key == name)
            {
                value = header.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    private static bool TryAddKeys(string header, object? value, List<string> keys, [NotNullWhen(false)] out string? invalidReason)
    {
        if (value is not IEnumerable<object?> array)
        {
            invalidReason = $"{{unacceptable_type_in_header,\"{header}\",{HeaderValues.TypeName(value)}}}";
            return false;
        }

        foreach (var element in array)
        {
            if (HeaderValues.TryGetLongstr(element, out var key))
            {
                keys.Add(key);
            }
        }

        invalidReason = null;
        return true;
    }
}
