using System.Buffers;
using BenchmarkDotNet.Attributes;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Spec;

namespace Gateway.Benchmarks;

/// <summary>
/// FrameReader.TryReadFrame over a receive buffer full of frames. Every benchmark reports per
/// frame: Op/s is frames per second, Allocated is bytes per frame (must be zero).
/// </summary>
[MemoryDiagnoser]
public class FrameReaderBenchmarks
{
    private const int Messages = 1000;
    private const int AckFrames = Messages;
    private const int PublishFrames = Messages * 3; // method + header + body

    private ReadOnlySequence<byte> _acks;
    private ReadOnlySequence<byte> _publishes;
    private ReadOnlySequence<byte> _publishesSegmented;

    [GlobalSetup]
    public void Setup()
    {
        _acks = new ReadOnlySequence<byte>(Samples.AckStream(Messages));
        var publishes = Samples.PublishStream(Messages);
        _publishes = new ReadOnlySequence<byte>(publishes);
        // 4 KiB segments, like a Pipe's default minimum segment size: some frames straddle two.
        _publishesSegmented = Samples.Segmented(publishes, 4096);
    }

    [Benchmark(OperationsPerInvoke = AckFrames, Description = "TryReadFrame: basic.ack frames")]
    public long ReadAcks() => ReadAll(_acks);

    [Benchmark(OperationsPerInvoke = PublishFrames, Description = "TryReadFrame: publish+header+body frames")]
    public long ReadPublishes() => ReadAll(_publishes);

    [Benchmark(OperationsPerInvoke = PublishFrames, Description = "TryReadFrame: publish frames, 4 KiB segments")]
    public long ReadPublishesSegmented() => ReadAll(_publishesSegmented);

    /// <summary>The consumer-ack hot path end to end: frame, method id, basic.ack arguments.</summary>
    [Benchmark(OperationsPerInvoke = AckFrames, Description = "TryReadFrame + BasicAck.Read")]
    public ulong ReadAndDecodeAcks()
    {
        var buffer = _acks;
        ulong sum = 0;
        while (FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var frame))
        {
            if (frame.ReadMethodId() == AmqpMethodId.BasicAck)
            {
                sum += BasicAck.Read(frame.GetContiguousPayload(default)[4..]).DeliveryTag;
            }
        }

        return sum;
    }

    private static long ReadAll(ReadOnlySequence<byte> buffer)
    {
        long payloadBytes = 0;
        while (FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var frame))
        {
            payloadBytes += frame.Payload.Length;
        }

        return payloadBytes;
    }
}
