using System.Buffers;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Architecture.Tests;

/// <summary>
/// The receive path's per-frame cost is part of the design: splitting a buffer into frames, and
/// reading a basic.ack, allocate nothing (tests/Gateway.Benchmarks measures the same with
/// BenchmarkDotNet's MemoryDiagnoser).
/// </summary>
public sealed class HotPathAllocationTests
{
    [Fact]
    public void Reading_frames_and_acks_allocates_nothing()
    {
        var output = new ArrayBufferWriter<byte>();
        var properties = new BasicProperties { DeliveryMode = 2, ContentType = "application/json" }.ToBytes();
        for (var i = 1; i <= 200; i++)
        {
            FrameWriter.WriteMethod(output, 1, new BasicAck((ulong)i));
            FrameWriter.WriteMethod(output, 1, new BasicPublish("orders", "orders.created"));
            FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, properties, new byte[300], 4096);
        }

        var bytes = output.WrittenMemory;
        var contiguous = new ReadOnlySequence<byte>(bytes);
        ReadAll(contiguous); // JIT and first-call work happen before measuring

        var before = GC.GetAllocatedBytesForCurrentThread();
        var frames = 0L;
        for (var round = 0; round < 20; round++)
        {
            frames += ReadAll(contiguous);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(20 * 800, frames);
        Assert.True(allocated == 0, $"{allocated} bytes allocated reading {frames} frames");
    }

    private static long ReadAll(ReadOnlySequence<byte> buffer)
    {
        var frames = 0L;
        ulong tags = 0;
        while (FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var frame))
        {
            frames++;
            if (frame.Type == FrameType.Method && frame.ReadMethodId() == AmqpMethodId.BasicAck)
            {
                tags += BasicAck.Read(frame.GetContiguousPayload(default)[4..]).DeliveryTag;
            }
        }

        return tags > 0 ? frames : -1;
    }
}
