using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace Gateway.Broker.Routing;

/// <summary>Where a binding leads: a queue, or (exchange-to-exchange binding) another exchange.</summary>
internal readonly record struct BindingDestination(string Name, BindingDestinationType Type)
{
    public static BindingDestination Queue(string name) => new(name, BindingDestinationType.Queue);

    public static BindingDestination Exchange(string name) => new(name, BindingDestinationType.Exchange);
}

/// <summary>
/// A binding's identity as RabbitMQ defines it: source, destination, routing key and arguments. Two
/// bindings that differ only in their arguments are two bindings (queue.bind with other arguments adds
/// one, and unbind must name the arguments), so the arguments take part through their canonical text.
/// </summary>
internal sealed record Binding(string Source, BindingDestination Destination, string RoutingKey, string CanonicalArguments)
{
    public static Binding From(BindingRecord record) => new(
        record.Source,
        new BindingDestination(record.Destination, record.DestinationType),
        record.RoutingKey,
        Canonical(record.Arguments));

    /// <summary>
    /// One spelling per argument table: keys sorted ordinally at every level, no whitespace. The metadata
    /// store identifies bindings the same way, so a table sent in another key order is the same binding.
    /// </summary>
    private static string Canonical(JsonObject? arguments)
    {
        if (arguments is null || arguments.Count == 0)
        {
            return "{}";
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, arguments);
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject table:
                writer.WriteStartObject();
                foreach (var (key, value) in table.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
