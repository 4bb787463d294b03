using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Types;

public class FieldTableCodecTests
{
    /// <summary>One entry "k" per type letter: the value as the codec's CLR type and the whole table on the wire.</summary>
    private static readonly Dictionary<char, (object? Value, string Hex)> OneEntryTables = new()
    {
        ['t'] = (true, "00000004 016b 74 01"),
        ['b'] = ((sbyte)-2, "00000004 016b 62 fe"),
        ['B'] = ((byte)200, "00000004 016b 42 c8"),
        ['s'] = ((short)-2, "00000005 016b 73 fffe"),
        ['u'] = ((ushort)65535, "00000005 016b 75 ffff"),
        ['I'] = (-1, "00000007 016b 49 ffffffff"),
        ['i'] = (4_000_000_000u, "00000007 016b 69 ee6b2800"),
        ['l'] = (-2L, "0000000b 016b 6c fffffffffffffffe"),
        ['f'] = (1.5f, "00000007 016b 66 3fc00000"),
        ['d'] = (1.5d, "0000000b 016b 64 3ff8000000000000"),
        ['D'] = (new AmqpDecimal(2, 12345), "00000008 016b 44 02 00003039"),
        ['S'] = ("hi"u8.ToArray(), "00000009 016b 53 00000002 6869"),
        ['A'] = (new List<object?> { 1, true }, "0000000e 016b 41 00000007 49 00000001 74 01"),
        ['T'] = (new AmqpTimestamp(1_700_000_000), "0000000b 016b 54 000000006553f100"),
        ['F'] = (new FieldTable { { "n", null } }, "0000000a 016b 46 00000003 016e 56"),
        ['V'] = (null, "00000003 016b 56"),
        ['x'] = (new AmqpBinary([1, 2]), "00000009 016b 78 00000002 0102"),
    };

    public static TheoryData<char> TypeLetters() => [.. OneEntryTables.Keys];

    [Theory]
    [MemberData(nameof(TypeLetters))]
    public void Each_type_letter_encodes_to_the_expected_bytes(char letter)
    {
        var (value, hex) = OneEntryTables[letter];

        var bytes = FieldTableCodec.Encode(new FieldTable { { "k", value } });

        WireAssert.BytesEqual(Hex.Parse(hex), bytes);
    }

    [Theory]
    [MemberData(nameof(TypeLetters))]
    public void Each_type_letter_decodes_to_its_clr_type(char letter)
    {
        var (value, hex) = OneEntryTables[letter];

        var table = FieldTableCodec.Decode(Hex.Parse(hex));

        Assert.Equal("k", Assert.Single(table).Key);
        Assert.True(
            WireAssert.ValuesEqual(value, table["k"]),
            $"'{letter}': expected {WireAssert.Describe(value)}, got {WireAssert.Describe(table["k"])}");
    }

    [Fact]
    public void Dotnet_client_publish_sequence_header_round_trips_byte_for_byte()
    {
        // RabbitMQ.Client 7 with confirm tracking adds x-dotnet-pub-seq-no as a long ('l') and reads it back
        // from basic.return, so the gateway must hand the header back exactly.
        var wire = Hex.Parse("0000001d 13 782d646f746e65742d7075622d7365712d6e6f 6c 0000000000000001");

        var table = FieldTableCodec.Decode(wire);

        Assert.Equal(1L, Assert.IsType<long>(table["x-dotnet-pub-seq-no"]));
        WireAssert.BytesEqual(wire, FieldTableCodec.Encode(table));
        WireAssert.BytesEqual(wire, FieldTableCodec.Encode(new FieldTable { { "x-dotnet-pub-seq-no", 1L } }));
    }

    [Fact]
    public void Longstr_and_byte_array_keep_their_letters()
    {
        // 'S' decodes to byte[] and 'x' to AmqpBinary, so re-encoding picks the original letter.
        var wire = Hex.Parse("00000010 01 61 53 00000001 7a | 01 62 78 00000001 7a");

        var table = FieldTableCodec.Decode(wire);

        Assert.IsType<byte[]>(table["a"]);
        Assert.IsType<AmqpBinary>(table["b"]);
        WireAssert.BytesEqual(wire, FieldTableCodec.Encode(table));
    }

    [Fact]
    public void String_and_decimal_are_accepted_when_writing()
    {
        var bytes = FieldTableCodec.Encode(new FieldTable { { "s", "hi" }, { "m", 1.25m } });

        WireAssert.BytesEqual(Hex.Parse("00000011 01 73 53 00000002 6869 | 01 6d 44 02 0000007d"), bytes);
    }

    [Fact]
    public void Duplicate_keys_keep_wire_order_and_the_last_one_wins_on_lookup()
    {
        var wire = Hex.Parse("0000000c 01 61 42 01 | 01 62 42 02 | 01 61 42 03");

        var table = FieldTableCodec.Decode(wire);

        Assert.Equal(["a", "b", "a"], table.Select(e => e.Key));
        Assert.Equal((byte)3, table["a"]);
        WireAssert.BytesEqual(wire, FieldTableCodec.Encode(table));
    }

    [Fact]
    public void Empty_and_null_tables_encode_as_a_zero_length()
    {
        WireAssert.BytesEqual(Hex.Parse("00000000"), FieldTableCodec.Encode(null));
        WireAssert.BytesEqual(Hex.Parse("00000000"), FieldTableCodec.Encode([]));
        Assert.Empty(FieldTableCodec.Decode(Hex.Parse("00000000")));
    }

    [Theory]
    [InlineData("0000000a 016b 74 01", "length prefix longer than the bytes")]
    [InlineData("00000004 016b 49 00", "int value cut short inside the table")]
    [InlineData("00000002 05 6b", "key longer than the table")]
    [InlineData("00000008 016b 41 00000009 74", "array length longer than the table")]
    [InlineData("000000", "length prefix itself cut short")]
    public void Truncated_tables_are_a_frame_error(string hex, string because)
    {
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(Hex.Parse(hex)));

        Assert.True(error.ReplyCode == ReplyCode.FrameError, because);
    }

    [Fact]
    public void Unknown_type_letter_is_a_frame_error()
    {
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(Hex.Parse("00000004 016b 5a 00")));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
        Assert.Contains("'Z'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_type_letter_inside_an_array_is_a_frame_error()
    {
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(Hex.Parse("00000008 016b 41 00000001 5a")));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Trailing_bytes_after_a_table_are_a_frame_error()
    {
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(Hex.Parse("00000000 00")));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Tables_nested_up_to_the_limit_decode_and_one_deeper_is_a_frame_error()
    {
        var atLimit = FieldTableCodec.Encode(NestedTables(FieldTableCodec.MaxNestingDepth));
        var tooDeep = FieldTableCodec.Encode(NestedTables(FieldTableCodec.MaxNestingDepth + 1));

        Assert.Single(FieldTableCodec.Decode(atLimit));
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(tooDeep));
        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Arrays_nested_up_to_the_limit_decode_and_one_deeper_is_a_frame_error()
    {
        var atLimit = NestedArraysWire(FieldTableCodec.MaxNestingDepth);
        var tooDeep = NestedArraysWire(FieldTableCodec.MaxNestingDepth + 1);

        Assert.Single(FieldTableCodec.Decode(atLimit));
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(tooDeep));
        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void A_hostile_frame_of_deeply_nested_arrays_fails_cleanly_instead_of_overflowing_the_stack()
    {
        // 20,000 levels fit in one 128 KiB frame; without a depth limit this recursion would kill the process.
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(NestedArraysWire(20_000)));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Unsupported_clr_values_are_refused_when_writing()
    {
        Assert.Throws<ArgumentException>(() => FieldTableCodec.Encode(new FieldTable { { "k", new object() } }));
        Assert.Throws<ArgumentException>(() => FieldTableCodec.Encode(new FieldTable { { "k", DateTime.UnixEpoch } }));
    }

    /// <summary>A table holding <paramref name="levels"/> tables, each inside the previous one.</summary>
    private static FieldTable NestedTables(int levels)
    {
        var table = new FieldTable();
        for (var i = 0; i < levels; i++)
        {
            table = new FieldTable { { "n", table } };
        }

        return table;
    }

    /// <summary>{"k": [[[…]]]} with <paramref name="levels"/> arrays, built octet by octet.</summary>
    private static byte[] NestedArraysWire(int levels)
    {
        var valueSize = 5 * levels; // each level: 'A' + 4-byte length
        var tableBody = 2 + valueSize; // key "k"
        var bytes = new byte[4 + tableBody];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)tableBody);
        bytes[4] = 1;
        bytes[5] = (byte)'k';
        for (var i = 0; i < levels; i++)
        {
            var at = 6 + (5 * i);
            bytes[at] = (byte)'A';
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at + 1), (uint)(5 * (levels - i - 1)));
        }

        return bytes;
    }
}
