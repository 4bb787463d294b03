using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Broker.Routing;

/// <summary>
/// AMQP field values as routing sees them: plain .NET values, so the broker core needs no wire types.
/// <list type="table">
/// <item><term>longstr</term><description><see cref="T:byte[]"/> (what the codec decodes) or <see cref="string"/> (UTF-8)</description></item>
/// <item><term>integers</term><description><see cref="sbyte"/>, <see cref="byte"/>, <see cref="short"/>,
/// <see cref="ushort"/>, <see cref="int"/>, <see cref="uint"/>, <see cref="long"/></description></item>
/// <item><term>float, double</term><description><see cref="float"/>, <see cref="double"/></description></item>
/// <item><term>decimal</term><description><see cref="decimal"/> (its scale is kept and compared)</description></item>
/// <item><term>timestamp</term><description><see cref="DateTimeOffset"/> (whole seconds since the Unix epoch)</description></item>
/// <item><term>bool, void</term><description><see cref="bool"/>, <see langword="null"/></description></item>
/// <item><term>table</term><description>any <see cref="IEnumerable{T}"/> of <see cref="KeyValuePair{TKey, TValue}"/>
/// of string and object, in wire order</description></item>
/// <item><term>array</term><description>any <see cref="IEnumerable{T}"/> of object</description></item>
/// </list>
/// A caller holding codec-specific values (a binary 'x' value, an AMQP decimal or timestamp struct) maps
/// them to these first; anything else is a programming error and throws <see cref="ArgumentException"/>.
/// </summary>
internal static class HeaderValues
{
    private enum Kind
    {
        Void,
        Bool,
        Integer,
        Float,
        Decimal,
        Longstr,
        Table,
        Array,
    }

    /// <summary>
    /// Equality as RabbitMQ's headers exchange decides it: Erlang's <c>==</c> on the decoded values
    /// (rabbit_exchange_type_headers:headers_match/5 compares <c>PV == DV</c> and ignores both type tags).
    /// So every integer width is the same integer, an integer equals a float of the same value (1 == 1.0),
    /// a timestamp is its integer seconds, a longstr equals a binary with the same bytes, and a decimal
    /// (a {Scale, Value} pair in Erlang) equals only a decimal with the same scale and digits.
    /// Arrays and tables compare element by element in order (RabbitMQ sorts only the top level).
    /// </summary>
    /// <remarks>
    /// Inside arrays and tables RabbitMQ also compares the element type tags ({long, 1} is not
    /// {signedint, 1}). Binding arguments are stored as JSON, which has no type tags, so nested values are
    /// compared by value too: a nested integer bound as one width matches the same integer of another.
    /// </remarks>
    public static bool RabbitEquals(object? left, object? right)
    {
        var leftKind = KindOf(left);
        var rightKind = KindOf(right);
        return (leftKind, rightKind) switch
        {
            (Kind.Integer, Kind.Integer) => ToInteger(left!) == ToInteger(right!),
            (Kind.Integer, Kind.Float) => IntegerEqualsFloat(ToInteger(left!), ToFloat(right!)),
            (Kind.Float, Kind.Integer) => IntegerEqualsFloat(ToInteger(right!), ToFloat(left!)),
            (Kind.Float, Kind.Float) => ToFloat(left!) == ToFloat(right!),
            (Kind.Decimal, Kind.Decimal) => ((decimal)left!).Scale == ((decimal)right!).Scale && (decimal)left! == (decimal)right!,
            (Kind.Bool, Kind.Bool) => (bool)left! == (bool)right!,
            (Kind.Void, Kind.Void) => true,
            (Kind.Longstr, Kind.Longstr) => LongstrEquals(left!, right!),
            (Kind.Table, Kind.Table) => TableEquals(
                (IEnumerable<KeyValuePair<string, object?>>)left!,
                (IEnumerable<KeyValuePair<string, object?>>)right!),
            (Kind.Array, Kind.Array) => ArrayEquals((IEnumerable<object?>)left!, (IEnumerable<object?>)right!),
            _ => false,
        };
    }

    /// <summary>The value's AMQP type as RabbitMQ names it in error texts (rabbit_binary_parser's type atoms).</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "void",
        bool => "bool",
        sbyte => "byte",
        byte => "unsignedbyte",
        short => "short",
        ushort => "unsignedshort",
        int => "signedint",
        uint => "unsignedint",
        long => "long",
        float => "float",
        double => "double",
        decimal => "decimal",
        DateTimeOffset => "timestamp",
        string or byte[] => "longstr",
        IEnumerable<KeyValuePair<string, object?>> => "table",
        IEnumerable<object?> => "array",
        _ => throw Unsupported(value),
    };

    /// <summary>A longstr's text: routing keys are strings, and longstr carries UTF-8.</summary>
    public static bool TryGetLongstr(object? value, out string text)
    {
        switch (value)
        {
            case byte[] bytes:
                text = Encoding.UTF8.GetString(bytes);
                return true;
            case string s:
                text = s;
                return true;
            default:
                text = "";
                return false;
        }
    }

    /// <summary>
    /// A binding argument from its stored JSON form, as <see cref="RabbitEquals"/> compares it: a string is
    /// kept as its UTF-8 bytes (message headers decode to bytes, so the common comparison is byte to byte),
    /// an integer as <see cref="long"/>, any other number as <see cref="double"/>, null as void; objects
    /// keep their key order and arrays their element order.
    /// </summary>
    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject table:
                return table.Select(p => new KeyValuePair<string, object?>(p.Key, FromJson(p.Value))).ToArray();
            case JsonArray array:
                return array.Select(FromJson).ToArray();
        }

        var value = node.AsValue();
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return Encoding.UTF8.GetBytes(value.GetValue<string>());
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                // The JSON text decides, whichever CLR number the node was built from.
                var text = value.ToJsonString();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return integer;
                }

                return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            default:
                return null;
        }
    }

    private static Kind KindOf(object? value) => value switch
    {
        null => Kind.Void,
        bool => Kind.Bool,
        sbyte or byte or short or ushort or int or uint or long or DateTimeOffset => Kind.Integer,
        float or double => Kind.Float,
        decimal => Kind.Decimal,
        string or byte[] => Kind.Longstr,
        IEnumerable<KeyValuePair<string, object?>> => Kind.Table,
        IEnumerable<object?> => Kind.Array,
        _ => throw Unsupported(value),
    };

    private static long ToInteger(object value) => value switch
    {
        DateTimeOffset timestamp => timestamp.ToUnixTimeSeconds(),
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    // float widens exactly to double, as RabbitMQ's decoder widens a 32-bit float to an Erlang float.
    private static double ToFloat(object value) => value is float single ? single : (double)value;

    /// <summary>Erlang's 1 == 1.0: equal when the float is a whole number with the integer's value.</summary>
    private static bool IntegerEqualsFloat(long integer, double floating) =>
        floating == Math.Floor(floating) && floating >= long.MinValue && floating < 9.2233720368547758E18 && (long)floating == integer;

    private static bool LongstrEquals(object left, object right)
    {
        if (left is string leftText && right is string rightText)
        {
            return string.Equals(leftText, rightText, StringComparison.Ordinal);
        }

        return Utf8(left).AsSpan().SequenceEqual(Utf8(right));
    }

    private static byte[] Utf8(object longstr) => longstr as byte[] ?? Encoding.UTF8.GetBytes((string)longstr);

    private static bool TableEquals(IEnumerable<KeyValuePair<string, object?>> left, IEnumerable<KeyValuePair<string, object?>> right)
    {
        using var rightEntries = right.GetEnumerator();
        foreach (var (key, value) in left)
        {
            if (!rightEntries.MoveNext()
                || !string.Equals(key, rightEntries.Current.Key, StringComparison.Ordinal)
                || !RabbitEquals(value, rightEntries.Current.Value))
            {
                return false;
            }
        }

        return !rightEntries.MoveNext();
    }

    private static bool ArrayEquals(IEnumerable<object?> left, IEnumerable<object?> right)
    {
        using var rightItems = right.GetEnumerator();
        foreach (var item in left)
        {
            if (!rightItems.MoveNext() || !RabbitEquals(item, rightItems.Current))
            {
                return false;
            }
        }

        return !rightItems.MoveNext();
    }

    private static ArgumentException Unsupported(object value) => new(
        $"a header value of type {value.GetType()} has no AMQP meaning for routing; "
            + $"map codec-specific values to the .NET types listed on {nameof(HeaderValues)}",
        nameof(value));
}
