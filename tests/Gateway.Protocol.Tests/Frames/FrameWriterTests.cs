using System.Buffers;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;

namespace Gateway.Protocol.Tests.Frames;

public class FrameWriterTests
{
    private static readonly byte[] DeliveryModeTwo = Hex.Parse("1000 02");

    [Fact]
    public void Heartbeat_is_type_8_on_channel_0_with_no_payload()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteHeartbeat(output);

        WireAssert.BytesEqual(Hex.Parse("08 0000 00000000 ce"), output.WrittenSpan);
    }

    [Fact]
    public void Protocol_header_is_amqp_0_9_1()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteProtocolHeader(output);

        WireAssert.BytesEqual(Hex.Parse("414d5150 00 00 09 01"), output.WrittenSpan);
    }

    [Fact]
    public void Body_is_split_at_frame_max_minus_eight()
    {
        var body = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, DeliveryModeTwo, body, frameMax: 4096);

        var frames = ReadAll(output.WrittenMemory);
        Assert.Equal([FrameType.Header, FrameType.Body, FrameType.Body, FrameType.Body], frames.Select(f => f.Type));
        Assert.Equal([4088, 4088, 1824], frames.Skip(1).Select(f => f.Payload.Length));
        Assert.All(frames, f => Assert.Equal(1, f.Channel));
        Assert.Equal(body, frames.Skip(1).SelectMany(f => f.Payload).ToArray());
        // Each body frame is exactly frame_max on the wire: 7 header + 4088 + frame-end.
        WireAssert.BytesEqual(Hex.Parse("03 0001 00000ff8"), output.WrittenSpan.Slice(23, 7));
    }

    [Fact]
    public void Header_frame_carries_class_weight_body_size_and_the_property_bytes()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, DeliveryModeTwo, new byte[10_000], frameMax: 4096);

        // payload 12 + 3 = 15; body size 10000 = 0x2710; weight 0
        WireAssert.BytesEqual(Hex.Parse("02 0001 0000000f | 003c 0000 0000000000002710 | 1000 02 | ce"), output.WrittenSpan[..23]);
    }

    [Fact]
    public void Frame_max_zero_sends_the_body_in_one_frame()
    {
        var body = new byte[10_000];
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, DeliveryModeTwo, body, frameMax: 0);

        var frames = ReadAll(output.WrittenMemory);
        Assert.Equal([FrameType.Header, FrameType.Body], frames.Select(f => f.Type));
        Assert.Equal(10_000, frames[1].Payload.Length);
    }

    [Fact]
    public void An_empty_body_is_a_header_frame_only()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 2, AmqpClassId.Basic, DeliveryModeTwo, ReadOnlyMemory<byte>.Empty, frameMax: 4096);

        WireAssert.BytesEqual(Hex.Parse("02 0002 0000000f | 003c 0000 0000000000000000 | 1000 02 | ce"), output.WrittenSpan);
    }

    [Theory]
    [InlineData(4088, new[] { 4088 })]
    [InlineData(4089, new[] { 4088, 1 })]
    [InlineData(8176, new[] { 4088, 4088 })]
    [InlineData(1, new[] { 1 })]
    public void Split_boundaries(int bodySize, int[] expectedFrames)
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, DeliveryModeTwo, new byte[bodySize], frameMax: 4096);

        Assert.Equal(expectedFrames, ReadAll(output.WrittenMemory).Skip(1).Select(f => (int)f.Payload.Length));
    }

    [Fact]
    public void A_multi_segment_body_is_split_across_segment_boundaries()
    {
        var body = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, DeliveryModeTwo, Segments.Split(body, 100, 4000, 4500), frameMax: 4096);

        var frames = ReadAll(output.WrittenMemory);
        Assert.Equal([4088, 912], frames.Skip(1).Select(f => (int)f.Payload.Length));
        Assert.Equal(body, frames.Skip(1).SelectMany(f => f.Payload).ToArray());
    }

    [Fact]
    public void Method_frame_is_header_ids_arguments_and_frame_end()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteMethod(output, 7, new Gateway.Protocol.Methods.Basic.BasicAck(1, multiple: false));

        WireAssert.BytesEqual(Hex.Parse("01 0007 0000000d 003c 0050 0000000000000001 00 ce"), output.WrittenSpan);
    }

    private static List<(FrameType Type, ushort Channel, byte[] Payload)> ReadAll(ReadOnlyMemory<byte> written)
    {
        var buffer = new ReadOnlySequence<byte>(written);
        var frames = new List<(FrameType, ushort, byte[])>();
        while (FrameReader.TryReadFrame(ref buffer, 4096 * 4, out var frame))
        {
            frames.Add((frame.Type, frame.Channel, frame.Payload.ToArray()));
        }

        Assert.True(buffer.IsEmpty, "trailing bytes after the last frame");
        return frames;
    }
}
