using System.Buffers;
using System.Buffers.Binary;
using Gateway.Protocol;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Fuzz.Tests;

/// <summary>
/// Targeted inputs the random run rarely produces, and checks that the generators themselves are
/// sound (valid samples decode and re-encode to the same bytes).
/// </summary>
public sealed class CodecEdgeCaseTests
{
    [Fact]
    public void Every_method_struct_is_in_the_decoder_table()
    {
        var types = MethodCodecs.MethodTypes().ToList();
        Assert.Equal(types.Count, MethodCodecs.ById.Count);
        Assert.Contains(AmqpMethodId.QueueDeclare, MethodCodecs.ById.Keys);
        Assert.Contains(AmqpMethodId.ConnectionStartOk, MethodCodecs.ById.Keys);
        Assert.All(MethodCodecs.ById, pair => Assert.True(pair.Key.IsKnown(), $"{pair.Value.Type} has unknown id {pair.Key}"));
    }

    [Fact]
    public void Sample_frames_read_decode_and_reencode_to_the_same_bytes()
    {
        foreach (var sample in FrameMutator.SampleFrames)
        {
            var buffer = new ReadOnlySequence<byte>(sample);
            Assert.True(FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var frame), FrameMutator.ToHex(sample));
            Assert.Equal(0, buffer.Length);
            if (frame.Type == FrameType.Method)
            {
                var codec = MethodCodecs.ById[frame.ReadMethodId()];
                var arguments = frame.Payload.Slice(4).ToArray();
                Assert.Equal(FrameMutator.ToHex(arguments), FrameMutator.ToHex(codec.Reencode(arguments)));
            }
            else if (frame.Type == FrameType.Header)
            {
                var header = ContentHeader.Read(frame.Payload.ToArray());
                Assert.Equal(FrameMutator.ToHex(header.PropertyBytes), FrameMutator.ToHex(BasicProperties.Read(header.PropertyBytes).ToBytes()));
            }
        }
    }

    [Fact]
    public void Every_split_of_every_sample_frame_reads_like_the_contiguous_frame()
    {
        foreach (var sample in FrameMutator.SampleFrames.Where(f => f.Length <= 1024))
        {
            var expected = CodecHarness.RunFrames(new ReadOnlySequence<byte>(sample), 0, checkReencode: false, new FuzzStats());
            for (var cut = 0; cut <= sample.Length; cut++)
            {
                var segmented = SegmentedSequence.Split(sample, [cut]);
                Assert.Equal(expected, CodecHarness.RunFrames(segmented, 0, checkReencode: false, new FuzzStats()));
            }

            var bytewise = SegmentedSequence.Split(sample, [.. Enumerable.Range(1, sample.Length - 1)]);
            Assert.Equal(expected, CodecHarness.RunFrames(bytewise, 0, checkReencode: false, new FuzzStats()));
        }
    }

    [Fact]
    public void Each_incomplete_prefix_of_a_frame_needs_more_data_and_consumes_nothing()
    {
        var frame = FrameMutator.SampleFrames[0];
        for (var length = 0; length < frame.Length; length++)
        {
            var buffer = SegmentedSequence.Split(frame.AsMemory(0, length), [length / 2]);
            Assert.False(FrameReader.TryReadFrame(ref buffer, 0, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Theory]
    [InlineData('A', 64)]
    [InlineData('F', 64)]
    public void Nesting_up_to_the_limit_decodes(char kind, int depth)
    {
        var table = FieldTableCodec.Decode(FrameMutator.NestedTable(kind, depth));
        Assert.Single(table);
    }

    /// <summary>
    /// Regression: field arrays ('A') nested in arrays had no depth limit, so a 130 KB table of
    /// 26,000 nested arrays (fits in one frame at the default frame_max) overflowed the stack and
    /// killed the process instead of raising a 501.
    /// </summary>
    [Theory]
    [InlineData('A', 65)]
    [InlineData('F', 65)]
    [InlineData('A', 26_000)]
    [InlineData('F', 2_000)]
    public void Nesting_beyond_the_limit_is_a_protocol_error_not_a_stack_overflow(char kind, int depth)
    {
        var bytes = FrameMutator.NestedTable(kind, depth);
        var error = Assert.Throws<AmqpProtocolException>(() => FieldTableCodec.Decode(bytes));
        Assert.Equal(ReplyCode.FrameError, error.ReplyCode);

        // The same table as queue.declare arguments, through the frame reader, within the default frame_max.
        byte[] arguments = [0, 0, 1, (byte)'q', 0, .. bytes];
        var frame = FrameMutator.Frame((byte)FrameType.Method, 1, [0, 50, 0, 10, .. arguments]);
        Assert.True(frame.Length <= AmqpConstants.DefaultFrameMax);
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var read));
        Assert.Throws<AmqpProtocolException>(() => QueueDeclare.Read(read.Payload.Slice(4).ToArray()));
    }

    [Fact]
    public void Header_frame_with_endless_property_flag_continuations_is_a_protocol_error()
    {
        byte[] properties = [.. Enumerable.Repeat<byte>(0xFF, 4000)];
        Assert.Throws<AmqpProtocolException>(() => BasicProperties.Read(properties));
    }

    [Theory]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData(0x7FFFFFFFu)]
    public void Huge_size_fields_are_rejected_or_wait_without_buffering(uint size)
    {
        var frame = new byte[8];
        frame[0] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(3), size);
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.Throws<AmqpProtocolException>(() => FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out _));
        Assert.False(FrameReader.TryReadFrame(ref buffer, 0, out _));
    }

    [Fact]
    public void Mutator_is_deterministic_for_a_seed()
    {
        static string Run(int seed)
        {
            var random = new Random(seed);
            var parts = new List<string>();
            foreach (var sample in FrameMutator.SampleFrames.Take(10))
            {
                parts.Add(FrameMutator.ToHex(FrameMutator.Mutate(sample, random)));
                parts.Add(FrameMutator.ToHex(FrameMutator.MutatePayload(sample, random)));
                parts.Add(FrameMutator.ToHex(FrameMutator.RandomMethodFrame(random)));
            }

            return string.Join('|', parts);
        }

        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
    }
}
