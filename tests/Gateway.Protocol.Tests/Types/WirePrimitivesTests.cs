using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Types;

public class WirePrimitivesTests
{
    [Fact]
    public void Nine_consecutive_bits_take_two_octets_least_significant_bit_first()
    {
        var bytes = new byte[3];
        var writer = new WireWriter(bytes);
        bool[] bits = [true, false, false, false, false, false, false, true, true];
        foreach (var bit in bits)
        {
            writer.WriteBit(bit);
        }

        writer.WriteOctet(0x7f);

        Assert.Equal(3, writer.Position);
        WireAssert.BytesEqual(Hex.Parse("81 01 7f"), bytes);
        var reader = new WireReader(bytes);
        var read = new bool[bits.Length];
        for (var i = 0; i < read.Length; i++)
        {
            read[i] = reader.ReadBit();
        }

        Assert.Equal(bits, read);
        Assert.Equal(0x7f, reader.ReadOctet());
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void A_bit_after_another_field_opens_a_new_octet()
    {
        var bytes = new byte[4];
        var writer = new WireWriter(bytes);
        writer.WriteBit(true);
        writer.WriteShortStr("");
        writer.WriteBit(true);
        writer.WriteBit(true);
        writer.WriteOctet(0);

        WireAssert.BytesEqual(Hex.Parse("01 00 03 00"), bytes);
        var reader = new WireReader(bytes);
        Assert.True(reader.ReadBit());
        Assert.Equal("", reader.ReadShortStr());
        Assert.True(reader.ReadBit());
        Assert.True(reader.ReadBit());
        Assert.False(reader.ReadBit()); // same octet as the two bits before
        Assert.Equal(0, reader.ReadOctet());
    }

    [Fact]
    public void Integers_are_big_endian()
    {
        var bytes = new byte[14];
        var writer = new WireWriter(bytes);
        writer.WriteShort(0x0102);
        writer.WriteLong(0x03040506);
        writer.WriteLongLong(0x0708090a0b0c0d0e);

        WireAssert.BytesEqual(Hex.Parse("0102 03040506 0708090a0b0c0d0e"), bytes);
        var reader = new WireReader(bytes);
        Assert.Equal(0x0102, reader.ReadShort());
        Assert.Equal(0x03040506u, reader.ReadLong());
        Assert.Equal(0x0708090a0b0c0d0eul, reader.ReadLongLong());
    }

    [Fact]
    public void Shortstr_is_utf8_with_a_length_octet()
    {
        var bytes = new byte[WireWriter.ShortStrSize("é/")];
        new WireWriter(bytes).WriteShortStr("é/");

        WireAssert.BytesEqual(Hex.Parse("03 c3a9 2f"), bytes);
        Assert.Equal("é/", new WireReader(bytes).ReadShortStr());
    }

    [Fact]
    public void Shortstr_of_255_bytes_fits_and_256_is_refused()
    {
        var max = new string('a', 255);
        var bytes = new byte[WireWriter.ShortStrSize(max)];
        new WireWriter(bytes).WriteShortStr(max);
        Assert.Equal(0xff, bytes[0]);

        var tooLong = new string('a', 256);
        Assert.Throws<ArgumentException>(() => new WireWriter(new byte[300]).WriteShortStr(tooLong));
        Assert.Throws<ArgumentException>(() => new WireWriter(new byte[300]).WriteShortStr(new byte[256]));
    }

    [Fact]
    public void Longstr_has_a_four_octet_length()
    {
        var bytes = new byte[WireWriter.LongStrSize("ab")];
        new WireWriter(bytes).WriteLongStr("ab");

        WireAssert.BytesEqual(Hex.Parse("00000002 6162"), bytes);
        Assert.Equal("ab", new WireReader(bytes).ReadLongStr());
    }

    [Theory]
    [InlineData("", "bit")]
    [InlineData("", "octet")]
    [InlineData("00", "short")]
    [InlineData("000000", "long")]
    [InlineData("00000000000000", "longlong")]
    [InlineData("05 6162", "shortstr")]
    [InlineData("00000003 6162", "longstr")]
    [InlineData("ffffffff 00", "longstr")]
    [InlineData("00000004 016b", "table")]
    public void Reads_past_the_end_are_a_frame_error(string hex, string domain)
    {
        var bytes = Hex.Parse(hex);

        var error = Assert.Throws<AmqpProtocolException>(() =>
        {
            var reader = new WireReader(bytes);
            _ = domain switch
            {
                "bit" => reader.ReadBit(),
                "octet" => reader.ReadOctet(),
                "short" => reader.ReadShort(),
                "long" => reader.ReadLong(),
                "longlong" => reader.ReadLongLong(),
                "shortstr" => reader.ReadShortStr(),
                "longstr" => reader.ReadLongStr(),
                "table" => (object)reader.ReadTable(),
                _ => throw new InvalidOperationException(domain),
            };
        });

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Content_header_layout_is_class_weight_body_size_then_properties()
    {
        var payload = Hex.Parse("003c | 0000 | 0000000000002710 | 1000 02");

        var header = ContentHeader.Read(payload);

        Assert.Equal(AmqpClassId.Basic, header.ClassId);
        Assert.Equal(10_000ul, header.BodySize);
        WireAssert.BytesEqual(Hex.Parse("1000 02"), header.PropertyBytes);
        Assert.Equal((byte)2, BasicProperties.Read(header.PropertyBytes).DeliveryMode);

        var written = new byte[header.GetRequiredBufferSize()];
        Assert.Equal(payload.Length, ContentHeader.ForBasic(10_000, Hex.Parse("1000 02")).WriteTo(written));
        WireAssert.BytesEqual(payload, written);
    }

    [Fact]
    public void Content_header_shorter_than_its_fixed_part_and_flags_is_a_frame_error()
    {
        var error = Assert.Throws<AmqpProtocolException>(() => ContentHeader.Read(Hex.Parse("003c 0000 0000000000000000 00")));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }
}
