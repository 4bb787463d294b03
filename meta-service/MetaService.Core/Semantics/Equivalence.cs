using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace MetaService.Core.Semantics;

/// <summary>RabbitMQ's redeclare checks (rabbit_misc:assert_field_equivalence/4 and assert_args_equivalence/4).</summary>
internal static class Equivalence
{
    /// <summary>A flag or the exchange type: "received 'false' but current is 'true'".</summary>
    public static void AssertField(string current, string received, string resource, string key)
    {
        if (!string.Equals(current, received, StringComparison.Ordinal))
        {
            throw Fail(key, resource, RabbitText.Quoted(received), RabbitText.Quoted(current));
        }
    }

    public static void AssertField(bool current, bool received, string resource, string key) =>
        AssertField(current ? "true" : "false", received ? "true" : "false", resource, key);

    /// <summary>
    /// Compares the given keys of two argument tables. Both missing, or the same type class and value, is
    /// equivalent; a missing x-queue-type equals "classic". A difference names the values as RabbitMQ does:
    /// bare values when both are present, "the value 'v' of type 't'" against "none" when one is missing.
    /// </summary>
    public static void AssertArguments(JsonObject current, JsonObject received, string resource, IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            var hasCurrent = current.TryGetPropertyValue(key, out var currentValue);
            var hasReceived = received.TryGetPropertyValue(key, out var receivedValue);
            if (!hasCurrent && !hasReceived)
            {
                continue;
            }

            if (hasCurrent && hasReceived)
            {
                if (!AmqpValue.Equivalent(currentValue, receivedValue))
                {
                    throw Fail(
                        key,
                        resource,
                        RabbitText.Quoted(AmqpValue.Format(receivedValue)),
                        RabbitText.Quoted(AmqpValue.Format(currentValue)));
                }

                continue;
            }

            // Classic queues need not carry x-queue-type: a missing one equals an explicit "classic".
            var present = hasCurrent ? currentValue : receivedValue;
            if (key == QueueTypes.QueueTypeKey && AmqpValue.TryGetString(present, out var type) && type == QueueTypes.Classic)
            {
                continue;
            }

            throw Fail(key, resource, Describe(hasReceived, receivedValue), Describe(hasCurrent, currentValue));
        }
    }

    private static string Describe(bool present, JsonNode? value) =>
        present ? RabbitText.TypedValue(AmqpValue.Format(value), AmqpValue.TypeName(value)) : RabbitText.None;

    private static MetadataException Fail(string key, string resource, string received, string current) =>
        new(MetadataException.PreconditionFailed, RabbitText.Inequivalent(key, resource, received, current));
}
