using CsCheck;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Types;

public class BasicPropertiesTests
{
    /// <summary>Each property alone: the flags word has exactly its bit (content-type = 15 … cluster-id = 2).</summary>
    private static readonly Dictionary<string, (BasicProperties Properties, string Hex)> SingleProperty = new()
    {
        ["content-type"] = (new() { ContentType = "a" }, "8000 | 01 61"),
        ["content-encoding"] = (new() { ContentEncoding = "gz" }, "4000 | 02 677a"),
        ["headers"] = (new() { Headers = new FieldTable { { "h", (byte)1 } } }, "2000 | 00000004 01 68 42 01"),
        ["delivery-mode"] = (new() { DeliveryMode = 2 }, "1000 | 02"),
        ["priority"] = (new() { Priority = 9 }, "0800 | 09"),
        ["correlation-id"] = (new() { CorrelationId = "c" }, "0400 | 01 63"),
        ["reply-to"] = (new() { ReplyTo = "r" }, "0200 | 01 72"),
        ["expiration"] = (new() { Expiration = "60000" }, "0100 | 05 3630303030"),
        ["message-id"] = (new() { MessageId = "m" }, "0080 | 01 6d"),
        ["timestamp"] = (new() { Timestamp = new AmqpTimestamp(1_700_000_000) }, "0040 | 000000006553f100"),
        ["type"] = (new() { Type = "t" }, "0020 | 01 74"),
        ["user-id"] = (new() { UserId = "guest" }, "0010 | 05 6775657374"),
        ["app-id"] = (new() { AppId = "a" }, "0008 | 01 61"),
        ["cluster-id"] = (new() { ClusterId = "" }, "0004 | 00"),
    };

    public static TheoryData<string> PropertyNames() => [.. SingleProperty.Keys];

    [Theory]
    [MemberData(nameof(PropertyNames))]
    public void A_single_property_sets_only_its_flag_bit(string property)
    {
        var (properties, hex) = SingleProperty[property];

        WireAssert.BytesEqual(Hex.Parse(hex), properties.ToBytes());
        Assert.Equal(Hex.Parse(hex).Length, properties.GetRequiredBufferSize());
    }

    [Theory]
    [MemberData(nameof(PropertyNames))]
    public void A_single_property_decodes_from_its_flag_bit(string property)
    {
        var (expected, hex) = SingleProperty[property];

        var decoded = BasicProperties.Read(Hex.Parse(hex));

        AssertSame(expected, decoded);
    }

    [Fact]
    public void No_properties_is_a_zero_flags_word()
    {
        WireAssert.BytesEqual(Hex.Parse("0000"), BasicProperties.Empty.ToBytes());
        AssertSame(BasicProperties.Empty, BasicProperties.Read(Hex.Parse("0000")));
    }

    [Fact]
    public void Several_properties_are_written_in_flag_order()
    {
        // What RabbitMQ.Client 7 sends for a persistent JSON publish with confirm tracking:
        // content-type (15), headers (13), delivery-mode (12), message-id (7) → flags 0xb080.
        var properties = new BasicProperties
        {
            MessageId = "m1",
            DeliveryMode = 2,
            Headers = new FieldTable { { "x-dotnet-pub-seq-no", 1L } },
            ContentType = "text/plain",
        };
        var wire = Hex.Parse(
            "b080 | 0a 746578742f706c61696e | 0000001d 13 782d646f746e65742d7075622d7365712d6e6f 6c 0000000000000001 | 02 | 02 6d31");

        WireAssert.BytesEqual(wire, properties.ToBytes());
        AssertSame(properties, BasicProperties.Read(wire));
    }

    [Fact]
    public void Continuation_flag_words_are_skipped()
    {
        // Bit 0 says another flags word follows; basic has no properties there, so it is read and ignored.
        var decoded = BasicProperties.Read(Hex.Parse("8001 | 0001 | 0000 | 01 61"));

        Assert.Equal("a", decoded.ContentType);
        Assert.Null(decoded.MessageId);
    }

    [Theory]
    [InlineData("80")]
    [InlineData("8000")]
    [InlineData("8000 05 61")]
    [InlineData("2000 00000009 01 68")]
    [InlineData("0040 0000")]
    public void Truncated_property_lists_are_a_frame_error(string hex)
    {
        var error = Assert.Throws<AmqpProtocolException>(() => BasicProperties.Read(Hex.Parse(hex)));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Random_properties_round_trip_through_the_wire()
    {
        var str = OrNull(WireGen.ShortStr);
        Gen.Select(
                Gen.Select(str, str, OrNullTable(WireGen.Table(2)), OrNull(Gen.Byte), OrNull(Gen.Byte)),
                Gen.Select(str, str, str, str, OrNull(Gen.Long)),
                Gen.Select(str, str, str, str),
                (a, b, c) => new BasicProperties
                {
                    ContentType = a.Item1,
                    ContentEncoding = a.Item2,
                    Headers = a.Item3,
                    DeliveryMode = a.Item4,
                    Priority = a.Item5,
                    CorrelationId = b.Item1,
                    ReplyTo = b.Item2,
                    Expiration = b.Item3,
                    MessageId = b.Item4,
                    Timestamp = b.Item5 is { } seconds ? new AmqpTimestamp(seconds) : null,
                    Type = c.Item1,
                    UserId = c.Item2,
                    AppId = c.Item3,
                    ClusterId = c.Item4,
                })
            .Sample(
                properties =>
                {
                    var bytes = properties.ToBytes();
                    Assert.Equal(bytes.Length, properties.GetRequiredBufferSize());
                    var decoded = BasicProperties.Read(bytes);
                    AssertSame(properties, decoded);
                    WireAssert.BytesEqual(bytes, decoded.ToBytes());
                    Assert.Equal(properties.Priority ?? 0, BasicProperties.PeekPriority(bytes));
                },
                iter: 2000);
    }

    [Theory]
    [InlineData("0000", 0)]
    [InlineData("0800 | 09", 9)]
    [InlineData("f800 | 01 61 | 00 | 00000004 01 68 42 01 | 02 | ff", 255)]
    [InlineData("0801 | 0000 | 07", 7)]
    [InlineData("0800", 0)]
    [InlineData("2800 | 00000009 01 68", 0)]
    [InlineData("8800 | 05 61", 0)]
    public void Priority_is_peeked_past_the_fields_ahead_of_it_and_is_0_when_absent_or_cut_off(string hex, byte expected) =>
        Assert.Equal(expected, BasicProperties.PeekPriority(Hex.Parse(hex)));

    private static Gen<string?> OrNull(Gen<string> gen) =>
        Gen.Frequency((1, Gen.Bool.Select(_ => (string?)null)), (2, gen.Select(s => (string?)s)));

    private static Gen<FieldTable?> OrNullTable(Gen<FieldTable> gen) =>
        Gen.Frequency((1, Gen.Bool.Select(_ => (FieldTable?)null)), (2, gen.Select(t => (FieldTable?)t)));

    private static Gen<T?> OrNull<T>(Gen<T> gen)
        where T : struct =>
        Gen.Frequency((1, Gen.Bool.Select(_ => (T?)null)), (2, gen.Select(v => (T?)v)));

    private static void AssertSame(BasicProperties expected, BasicProperties actual)
    {
        // The record's own Equals compares Headers by reference, so tables are compared structurally here.
        WireAssert.TablesEqual(expected.Headers, actual.Headers);
        Assert.Equal(expected with { Headers = null }, actual with { Headers = null });
    }
}
