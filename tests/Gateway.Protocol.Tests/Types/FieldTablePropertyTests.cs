using CsCheck;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Types;

public class FieldTablePropertyTests
{
    [Fact]
    public void Decode_of_encode_gives_the_same_table()
    {
        WireGen.Table(depth: 3).Sample(
            table => WireAssert.TablesEqual(table, FieldTableCodec.Decode(FieldTableCodec.Encode(table))),
            iter: 2000,
            print: t => WireAssert.Describe(t));
    }

    [Fact]
    public void Encode_of_decode_gives_the_same_bytes()
    {
        // The bytes come from WireGen's own octet-level builder, not from the codec under test.
        WireGen.WireTable(depth: 3).Sample(
            bytes => WireAssert.BytesEqual(bytes, FieldTableCodec.Encode(FieldTableCodec.Decode(bytes))),
            iter: 2000,
            print: b => Hex.Format(b));
    }

    [Fact]
    public void Encoded_size_matches_the_bytes_written()
    {
        WireGen.Table(depth: 3).Sample(
            table => Assert.Equal(4 + FieldTableCodec.GetTableBodySize(table), FieldTableCodec.Encode(table).Length),
            iter: 500,
            print: t => WireAssert.Describe(t));
    }

    [Fact]
    public void Any_strict_prefix_of_an_encoded_table_is_a_frame_error()
    {
        WireGen.WireTable(depth: 2).Where(b => b.Length > 4).SelectMany(b => Gen.Int[0, b.Length - 1].Select(cut => (b, cut))).Sample(
            (bytes, cut) =>
            {
                var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(bytes.AsSpan(0, cut)));
                Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
            },
            iter: 500);
    }
}
