using BenchmarkDotNet.Attributes;
using Gateway.Protocol.Types;

namespace Gateway.Benchmarks;

/// <summary>FieldTableCodec.Decode of the tables a RabbitMQ.Client connection and publisher send.</summary>
[MemoryDiagnoser]
public class FieldTableBenchmarks
{
    private byte[] _clientProperties = [];
    private byte[] _publishHeaders = [];
    private byte[] _publishProperties = [];

    [GlobalSetup]
    public void Setup()
    {
        _clientProperties = FieldTableCodec.Encode(Samples.ClientProperties());
        _publishHeaders = FieldTableCodec.Encode(Samples.PublishHeaders());
        _publishProperties = Samples.PublishProperties();
    }

    [Benchmark(Description = "Decode client-properties (connection.start-ok)")]
    public int DecodeClientProperties() => FieldTableCodec.Decode(_clientProperties).Count;

    [Benchmark(Description = "Decode message headers (4 entries)")]
    public int DecodePublishHeaders() => FieldTableCodec.Decode(_publishHeaders).Count;

    [Benchmark(Description = "BasicProperties.Read (5 properties incl. headers)")]
    public int DecodePublishProperties() => BasicProperties.Read(_publishProperties).Headers!.Count;
}
