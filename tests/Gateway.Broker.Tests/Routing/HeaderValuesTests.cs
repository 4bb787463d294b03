using System.Text.Json.Nodes;
using Gateway.Broker.Routing;
using static Gateway.Broker.Tests.Routing.Topology;

namespace Gateway.Broker.Tests.Routing;

public sealed class HeaderValuesTests
{
    public static TheoryData<object?, object?> EqualPairs() => new()
    {
        { 1, 1L },
        { (sbyte)-1, -1L },
        { ushort.MaxValue, 65535 },
        { uint.MaxValue, 4294967295L },
        { 3L, 3.0 },
        { 3.0, 3L },
        { 1.5f, 1.5 },
        { 0.1, 0.1 },
        // A timestamp is its integer seconds in RabbitMQ.
        { DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), 1_700_000_000L },
        { 1.50m, 1.50m },
        { true, true },
        { null, null },
        { "abc", Longstr("abc") },
        { Longstr("abc"), Longstr("abc") },
        { "", Longstr("") },
        { new object?[] { 1, "a" }, new List<object?> { 1L, Longstr("a") } },
        { new object?[] { new object?[] { 1 } }, new object?[] { new object?[] { 1.0 } } },
        { Headers(("a", 1), ("b", "x")), new Dictionary<string, object?> { ["a"] = 1L, ["b"] = Longstr("x") } },
    };

    public static TheoryData<object?, object?> UnequalPairs() => new()
    {
        { 1, 2 },
        { 1L, 1.5 },
        // 0.1f widens to 0.100000001490116..., not 0.1.
        { 0.1f, 0.1 },
        // An AMQP decimal is {Scale, Value}: the same number at another scale is another value, and never an integer.
        { 1.5m, 1.50m },
        { 1m, 1L },
        { 1m, 1.0 },
        { true, false },
        { true, 1 },
        { null, 0 },
        { null, Longstr("") },
        { "1", 1 },
        { "abc", "ABC" },
        { Longstr("abc"), Longstr("abd") },
        { new object?[] { 1 }, new object?[] { 1, 2 } },
        { new object?[] { 1, 2 }, new object?[] { 2, 1 } },
        { new object?[] { 1 }, Headers(("0", 1)) },
        { Headers(("a", 1), ("b", 2)), Headers(("b", 2), ("a", 1)) },
        { Headers(("a", 1)), Headers(("a", 1), ("b", 2)) },
        { Headers(("a", 1)), Headers(("A", 1)) },
    };

    [Theory]
    [MemberData(nameof(EqualPairs))]
    public void Equal_values_compare_equal_both_ways(object? left, object? right)
    {
        Assert.True(HeaderValues.RabbitEquals(left, right));
        Assert.True(HeaderValues.RabbitEquals(right, left));
    }

    [Theory]
    [MemberData(nameof(UnequalPairs))]
    public void Unequal_values_compare_unequal_both_ways(object? left, object? right)
    {
        Assert.False(HeaderValues.RabbitEquals(left, right));
        Assert.False(HeaderValues.RabbitEquals(right, left));
    }

    [Fact]
    public void A_value_of_an_unknown_type_is_refused_rather_than_silently_unequal()
    {
        var error = Assert.Throws<ArgumentException>(() => HeaderValues.RabbitEquals(Guid.Empty, 1));

        Assert.Contains("System.Guid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "void")]
    [InlineData(true, "bool")]
    [InlineData((sbyte)1, "byte")]
    [InlineData((byte)1, "unsignedbyte")]
    [InlineData((short)1, "short")]
    [InlineData((ushort)1, "unsignedshort")]
    [InlineData(1, "signedint")]
    [InlineData(1u, "unsignedint")]
    [InlineData(1L, "long")]
    [InlineData(1f, "float")]
    [InlineData(1d, "double")]
    [InlineData("s", "longstr")]
    [InlineData(new byte[] { 1 }, "longstr")]
    public void Type_names_are_RabbitMQs(object? value, string name)
    {
        Assert.Equal(name, HeaderValues.TypeName(value));
    }

    [Fact]
    public void Type_names_of_the_other_types_are_RabbitMQs()
    {
        Assert.Equal("decimal", HeaderValues.TypeName(1m));
        Assert.Equal("timestamp", HeaderValues.TypeName(DateTimeOffset.UnixEpoch));
        Assert.Equal("table", HeaderValues.TypeName(Headers(("a", 1))));
        Assert.Equal("array", HeaderValues.TypeName(new List<object?>()));
    }

    [Fact]
    public void Json_binding_arguments_become_the_values_headers_are_compared_with()
    {
        var parsed = JsonNode.Parse(
            """{"s":"x","i":5,"big":9007199254740993,"f":2.5,"whole":2.0,"t":true,"n":null,"a":[1,"y"],"o":{"k":1}}""")!.AsObject();

        Assert.Equal(Longstr("x"), HeaderValues.FromJson(parsed["s"]));
        Assert.Equal(5L, HeaderValues.FromJson(parsed["i"]));
        Assert.Equal(9007199254740993L, HeaderValues.FromJson(parsed["big"]));
        Assert.Equal(2.5, HeaderValues.FromJson(parsed["f"]));
        Assert.Equal(2.0, HeaderValues.FromJson(parsed["whole"]));
        Assert.Equal(true, HeaderValues.FromJson(parsed["t"]));
        Assert.Null(HeaderValues.FromJson(parsed["n"]));
        Assert.True(HeaderValues.RabbitEquals(HeaderValues.FromJson(parsed["a"]), new object?[] { 1, "y" }));
        Assert.True(HeaderValues.RabbitEquals(HeaderValues.FromJson(parsed["o"]), Headers(("k", 1))));
        // Built in code rather than parsed: the number's JSON text decides, whatever CLR type backs it.
        Assert.Equal(7L, HeaderValues.FromJson(JsonValue.Create(7)));
        Assert.Equal(0.5, HeaderValues.FromJson(JsonValue.Create(0.5f)));
    }
}
