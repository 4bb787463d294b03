using System.Text;
using System.Text.Json.Nodes;
using Gateway.Protocol.Types;

namespace Gateway.Server.Channels;

/// <summary>
/// AMQP field tables (declare and bind arguments) as the JSON the metadata store keeps, the same
/// shape RabbitMQ's definitions export uses: strings for longstr, numbers for every integer,
/// float and decimal, booleans, nested objects and arrays, null for void. Byte arrays ('x') become
/// strings only when they are UTF-8, as RabbitMQ's JSON encoder does; otherwise base64.
/// </summary>
internal static class FieldTableJson
{
    public static JsonObject ToJson(FieldTable? table)
    {
        var json = new JsonObject();
        if (table is null)
        {
            return json;
        }

        foreach (var (key, value) in table)
        {
            // A repeated key: RabbitMQ keeps the first (rabbit_misc:table_lookup finds the first).
            if (!json.ContainsKey(key))
            {
                json[key] = ToNode(value);
            }
        }

        return json;
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        byte[] longString => JsonValue.Create(Utf8OrBase64(longString)),
        AmqpBinary binary => JsonValue.Create(Utf8OrBase64(binary.Bytes)),
        bool b => JsonValue.Create(b),
        sbyte n => JsonValue.Create(n),
        byte n => JsonValue.Create(n),
        short n => JsonValue.Create(n),
        ushort n => JsonValue.Create(n),
        int n => JsonValue.Create(n),
        uint n => JsonValue.Create(n),
        long n => JsonValue.Create(n),
        ulong n => JsonValue.Create(n),
        float f => JsonValue.Create(f),
        double d => JsonValue.Create(d),
        AmqpDecimal d => JsonValue.Create(d.ToDecimal()),
        AmqpTimestamp t => JsonValue.Create(t.UnixSeconds),
        FieldTable nested => ToJson(nested),
        IEnumerable<object?> array => new JsonArray([.. array.Select(ToNode)]),
        _ => JsonValue.Create(value.ToString()),
    };

    private static string Utf8OrBase64(byte[] bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToBase64String(bytes);
        }
    }
}
