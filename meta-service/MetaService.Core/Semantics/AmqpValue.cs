using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetaService.Core.Semantics;

/// <summary>
/// AMQP field values as the metadata stores them: JSON. JSON has no AMQP type letters, so the type is
/// read back from the JSON kind the way a client library usually writes it: an integer that fits 32
/// bits is a signedint (what RabbitMQ.Client sends for an int), a larger one a long, a fraction a
/// double, a string a longstr, true/false a bool, an object a table, an array an array, null void.
/// RabbitMQ compares integers by class (signedint = long = short …), so equivalence is unaffected;
/// only the type named in an error text can differ from the client's actual type letter.
/// </summary>
internal static class AmqpValue
{
    /// <summary>A deep copy whose numbers are all JSON-text backed, so they can be read as any numeric type.</summary>
    public static JsonObject Normalize(JsonObject? arguments) =>
        arguments is null ? [] : (JsonNode.Parse(arguments.ToJsonString()) as JsonObject ?? []);

    public static string TypeName(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "void";
            case JsonObject:
                return "table";
            case JsonArray:
                return "array";
        }

        var value = node.AsValue();
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return "longstr";
            case JsonValueKind.True:
            case JsonValueKind.False:
                return "bool";
            case JsonValueKind.Number:
                if (TryGetInteger(node, out var integer))
                {
                    return integer is >= int.MinValue and <= int.MaxValue ? "signedint" : "long";
                }

                return "double";
            default:
                return "void";
        }
    }

    /// <summary>RabbitMQ's type classes: every integer type is "int", float and double are "float".</summary>
    public static string TypeClass(string typeName) => typeName switch
    {
        "byte" or "short" or "signedint" or "long" or "decimal" or "unsignedbyte" or "unsignedshort" or "unsignedint" => "int",
        "float" or "double" => "float",
        _ => typeName,
    };

    public static bool IsInteger(JsonNode? node) => TypeClass(TypeName(node)) == "int";

    public static bool TryGetInteger(JsonNode? node, out long integer)
    {
        integer = 0;
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (value.TryGetValue(out JsonElement element))
        {
            return element.TryGetInt64(out integer);
        }

        return value.TryGetValue(out integer);
    }

    public static bool TryGetString(JsonNode? node, out string text)
    {
        text = "";
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            text = value.GetValue<string>();
            return true;
        }

        return false;
    }

    /// <summary>Same type class and equal value: RabbitMQ's test for two argument values being equivalent.</summary>
    public static bool Equivalent(JsonNode? a, JsonNode? b)
    {
        var typeA = TypeName(a);
        var typeB = TypeName(b);
        if (TypeClass(typeA) != TypeClass(typeB))
        {
            return false;
        }

        switch (TypeClass(typeA))
        {
            case "int":
                TryGetInteger(a, out var x);
                TryGetInteger(b, out var y);
                return x == y;
            case "float":
                return a!.AsValue().GetValue<double>().Equals(b!.AsValue().GetValue<double>());
            default:
                return JsonNode.DeepEquals(a, b);
        }
    }

    /// <summary>A value as RabbitMQ prints it in an explanation: strings bare, other values in Erlang-like text.</summary>
    public static string Format(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "undefined";
            case JsonObject or JsonArray:
                return node.ToJsonString();
        }

        var value = node.AsValue();
        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number when TryGetInteger(node, out var integer) => integer.ToString(CultureInfo.InvariantCulture),
            _ => node.ToJsonString(),
        };
    }
}
