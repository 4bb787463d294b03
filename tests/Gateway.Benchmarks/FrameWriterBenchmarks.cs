using System.Buffers;
using BenchmarkDotNet.Attributes;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Benchmarks;

/// <summary>FrameWriter into a reused ArrayBufferWriter (as into a PipeWriter): one frame, or one message, per op.</summary>
[MemoryDiagnoser]
public class FrameWriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(1 << 16);
    private readonly BasicAck _ack = new(123_456);
    private readonly BasicPublish _publish = Samples.Publish;
    private readonly QueueDeclare _queueDeclare = new(
        "orders.eu-west",
        durable: true,
        arguments: new FieldTable { { "x-queue-type", "quorum"u8.ToArray() }, { "x-max-length", 100_000 } });

    private readonly byte[] _properties = Samples.PublishProperties();

    [Benchmark(Description = "WriteMethod basic.ack")]
    public int WriteAck()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMethod(_output, 1, _ack);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "WriteMethod basic.publish")]
    public int WritePublish()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMethod(_output, 1, _publish);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "WriteMethod queue.declare (2 arguments)")]
    public int WriteQueueDeclare()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMethod(_output, 1, _queueDeclare);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "WriteMethod + WriteContent (publish, 128 B body)")]
    public int WriteMessage()
    {
        _output.ResetWrittenCount();
        FrameWriter.WriteMethod(_output, 1, _publish);
        FrameWriter.WriteContent(_output, 1, AmqpClassId.Basic, _properties, Samples.Body, AmqpConstants.DefaultFrameMax);
        return _output.WrittenCount;
    }
}
