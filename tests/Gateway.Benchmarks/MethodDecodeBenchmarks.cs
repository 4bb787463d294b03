using BenchmarkDotNet.Attributes;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Types;

namespace Gateway.Benchmarks;

/// <summary>
/// Method argument decoding (the bytes after class-id and method-id). Each op decodes one method;
/// a batch of distinct inputs per invocation keeps the cheapest decoders above timer resolution.
/// </summary>
[MemoryDiagnoser]
public class MethodDecodeBenchmarks
{
    private const int Batch = 256;

    private byte[][] _acks = [];
    private byte[][] _publishes = [];
    private byte[][] _queueDeclares = [];
    private byte[][] _channelOpens = [];

    [GlobalSetup]
    public void Setup()
    {
        _acks = Build(i => Samples.Arguments(new BasicAck(123_456UL + (ulong)i, multiple: i % 2 == 0)));
        _publishes = Build(i => Samples.Arguments(new BasicPublish("orders", $"orders.created.eu-west.{i:D3}", mandatory: true)));
        _queueDeclares = Build(i => Samples.Arguments(new QueueDeclare(
            $"orders.eu-west.{i:D3}",
            durable: true,
            arguments: new FieldTable { { "x-queue-type", "quorum"u8.ToArray() }, { "x-max-length", 100_000 + i } })));
        _channelOpens = Build(_ => Samples.Arguments(default(ChannelOpen)));
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "BasicAck.Read")]
    public ulong DecodeBasicAck()
    {
        ulong sum = 0;
        foreach (var arguments in _acks)
        {
            sum += BasicAck.Read(arguments).DeliveryTag;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "BasicPublish.Read")]
    public int DecodeBasicPublish()
    {
        var sum = 0;
        foreach (var arguments in _publishes)
        {
            sum += BasicPublish.Read(arguments).RoutingKey.Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "QueueDeclare.Read (2 arguments)")]
    public int DecodeQueueDeclare()
    {
        var sum = 0;
        foreach (var arguments in _queueDeclares)
        {
            sum += QueueDeclare.Read(arguments).Arguments!.Count;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch, Description = "ChannelOpen.Read")]
    public int DecodeChannelOpen()
    {
        var count = 0;
        foreach (var arguments in _channelOpens)
        {
            _ = ChannelOpen.Read(arguments);
            count++;
        }

        return count;
    }

    private static byte[][] Build(Func<int, byte[]> create) => [.. Enumerable.Range(0, Batch).Select(create)];
}
