using System.Buffers;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;

namespace Gateway.Protocol.Tests.Frames;

public class FrameReaderTests
{
    // channel.flow(active) on channel 3: payload 00140014 01
    private static readonly byte[] FlowFrame = Hex.Parse("01 0003 00000005 0014 0014 01 ce");

    [Fact]
    public void Reads_a_whole_frame_and_consumes_exactly_it()
    {
        var buffer = new ReadOnlySequence<byte>([.. FlowFrame, .. Hex.Parse("08 0000 00000000 ce")]);

        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));

        Assert.Equal(FrameType.Method, frame.Type);
        Assert.Equal(3, frame.Channel);
        WireAssert.BytesEqual(Hex.Parse("0014 0014 01"), frame.Payload.ToArray());
        Assert.Equal(AmqpMethodId.ChannelFlow, frame.ReadMethodId());
        Assert.Equal(8, buffer.Length);

        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var heartbeat));
        Assert.Equal(FrameType.Heartbeat, heartbeat.Type);
        Assert.Equal(0, heartbeat.Channel);
        Assert.True(heartbeat.Payload.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Incomplete_input_returns_false_without_consuming()
    {
        for (var length = 0; length < FlowFrame.Length; length++)
        {
            var original = new ReadOnlySequence<byte>(FlowFrame, 0, length);
            var buffer = original;

            Assert.False(FrameReader.TryReadFrame(ref buffer, 4096, out _), $"{length} bytes");
            Assert.Equal(original.Start, buffer.Start);
            Assert.Equal(original.End, buffer.End);
        }
    }

    [Fact]
    public void A_frame_end_other_than_0xCE_is_a_frame_error()
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("01 0003 00000005 0014 0014 01 00"));

        var error = Assert.Throws<AmqpProtocolException>(() => FrameReader.TryReadFrame(ref buffer, 4096, out _));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void An_oversize_frame_is_refused_from_its_header_before_the_payload_arrives()
    {
        // Only the 7-byte header: size 0x1001 = 4097 > 4096.
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("03 0001 00001001"));

        var error = Assert.Throws<AmqpProtocolException>(() => FrameReader.TryReadFrame(ref buffer, 4096, out _));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void A_payload_of_exactly_the_limit_is_accepted()
    {
        var bytes = new byte[7 + 4096 + 1];
        Hex.Parse("03 0001 00001000").CopyTo(bytes, 0);
        bytes[^1] = AmqpConstants.FrameEnd;
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));
        Assert.Equal(FrameType.Body, frame.Type);
        Assert.Equal(4096, frame.Payload.Length);
    }

    [Fact]
    public void A_limit_of_zero_means_no_limit()
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("03 0001 7fffffff"));

        Assert.False(FrameReader.TryReadFrame(ref buffer, 0, out _));
        Assert.Equal(7, buffer.Length);
    }

    [Theory]
    [InlineData("00")]
    [InlineData("04")]
    [InlineData("07")]
    [InlineData("09")]
    [InlineData("41")] // 'A': a second protocol header sent mid-connection
    public void An_unknown_frame_type_is_a_frame_error(string type)
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse(type + " 0000 00000000"));

        var error = Assert.Throws<AmqpProtocolException>(() => FrameReader.TryReadFrame(ref buffer, 4096, out _));

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }

    [Fact]
    public void Frames_split_at_any_point_across_two_segments_read_the_same()
    {
        for (var cut = 1; cut < FlowFrame.Length; cut++)
        {
            var buffer = Segments.Split(FlowFrame, cut);

            Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame), $"cut at {cut}");

            Assert.Equal(3, frame.Channel);
            Assert.Equal(AmqpMethodId.ChannelFlow, frame.ReadMethodId());
            WireAssert.BytesEqual(Hex.Parse("0014 0014 01"), frame.Payload.ToArray());
            Assert.True(buffer.IsEmpty);
        }
    }

    [Fact]
    public void A_frame_delivered_one_byte_per_segment_reads_correctly()
    {
        var buffer = Segments.OneBytePerSegment(FlowFrame);

        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));

        Assert.Equal(AmqpMethodId.ChannelFlow, frame.ReadMethodId());
        Span<byte> scratch = stackalloc byte[16];
        WireAssert.BytesEqual(Hex.Parse("0014 0014 01"), frame.GetContiguousPayload(scratch));
    }

    [Fact]
    public void Contiguous_payload_is_a_slice_of_the_buffer_when_it_is_one_segment()
    {
        var bytes = FlowFrame.ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));
        var scratch = new byte[16];

        var payload = frame.GetContiguousPayload(scratch);

        Assert.True(payload.Overlaps(bytes.AsSpan(7, 5)));
        Assert.False(payload.Overlaps(scratch));
        WireAssert.BytesEqual(Hex.Parse("0014 0014 01"), payload);
    }

    [Fact]
    public void Contiguous_payload_is_copied_into_scratch_when_it_spans_segments()
    {
        var buffer = Segments.Split(FlowFrame, 9);
        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));
        var scratch = new byte[16];

        var payload = frame.GetContiguousPayload(scratch);

        Assert.True(payload.Overlaps(scratch));
        Assert.Equal(5, payload.Length);
        WireAssert.BytesEqual(Hex.Parse("0014 0014 01"), payload);
    }

    [Fact]
    public void Method_id_of_a_payload_shorter_than_four_octets_is_a_frame_error()
    {
        var buffer = new ReadOnlySequence<byte>(Hex.Parse("01 0001 00000002 0014 ce"));
        Assert.True(FrameReader.TryReadFrame(ref buffer, 4096, out var frame));

        var error = Assert.Throws<AmqpProtocolException>(() => frame.ReadMethodId());

        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);
    }
}
