using System.Buffers;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Tests.Support;

namespace Gateway.Protocol.Tests.Frames;

public class ProtocolHeaderTests
{
    [Theory]
    [InlineData("414d5150 00 00 09 01")] // AMQP 0-9-1
    [InlineData("414d5150 01 01 00 09")] // AMQP 0-9, which RabbitMQ also accepts
    public void Accepted_headers_consume_eight_octets(string hex)
    {
        var buffer = new ReadOnlySequence<byte>([.. Hex.Parse(hex), 0x01, 0x00]);

        Assert.Equal(ProtocolHeaderResult.Accepted, ProtocolHeader.TryRead(ref buffer));

        WireAssert.BytesEqual(Hex.Parse("01 00"), buffer.ToArray());
    }

    [Theory]
    [InlineData("414d5150 00 00 09 00")] // 0-9-0
    [InlineData("414d5150 00 01 00 00")] // AMQP 1.0
    [InlineData("414d5150 03 01 00 00")] // AMQP 1.0 SASL
    [InlineData("414d5150 01 01 08 00")] // 0-8
    [InlineData("47455420 2f204854")] // "GET / HT"
    public void Other_eight_octet_headers_are_rejected(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        Assert.Equal(ProtocolHeaderResult.Rejected, ProtocolHeader.TryRead(ref buffer));
    }

    [Theory]
    [InlineData("")]
    [InlineData("41")]
    [InlineData("414d51")]
    [InlineData("414d5150")]
    [InlineData("414d5150 00 00 09")]
    public void A_prefix_of_a_valid_header_needs_more_data_and_consumes_nothing(string hex)
    {
        var original = new ReadOnlySequence<byte>(Hex.Parse(hex));
        var buffer = original;

        Assert.Equal(ProtocolHeaderResult.NeedMoreData, ProtocolHeader.TryRead(ref buffer));

        Assert.Equal(original.Length, buffer.Length);
        Assert.Equal(original.Start, buffer.Start);
    }

    [Theory]
    [InlineData("47")] // 'G' of an HTTP request
    [InlineData("16 0301")] // a TLS ClientHello
    [InlineData("414d58")] // "AMX"
    public void A_wrong_start_is_rejected_without_waiting_for_eight_octets(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(hex));

        Assert.Equal(ProtocolHeaderResult.Rejected, ProtocolHeader.TryRead(ref buffer));
    }

    [Fact]
    public void A_header_split_across_segments_is_accepted()
    {
        var buffer = Segments.Split(Hex.Parse("414d5150 00 00 09 01"), 1, 5);

        Assert.Equal(ProtocolHeaderResult.Accepted, ProtocolHeader.TryRead(ref buffer));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_partial_header_split_across_segments_needs_more_data()
    {
        var buffer = Segments.Split(Hex.Parse("414d5150 00 00"), 2, 3);

        Assert.Equal(ProtocolHeaderResult.NeedMoreData, ProtocolHeader.TryRead(ref buffer));
        Assert.Equal(6, buffer.Length);
    }
}
