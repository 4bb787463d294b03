using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.qos (60, 10), client → server. Fields in spec order:
/// prefetch-size long, prefetch-count short, global bit.
/// Prefetch limits. RabbitMQ refuses prefetch-size ≠ 0 (540) and reads global=false as per-consumer, true as per-channel.
/// </summary>
public readonly struct BasicQos : IAmqpMethod<BasicQos>
{
    public BasicQos(uint prefetchSize, ushort prefetchCount, bool global)
    {
        PrefetchSize = prefetchSize;
        PrefetchCount = prefetchCount;
        Global = global;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicQos;

    public uint PrefetchSize { get; }

    public ushort PrefetchCount { get; }

    public bool Global { get; }

    public static BasicQos Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var prefetchSize = reader.ReadLong();
        var prefetchCount = reader.ReadShort();
        var global = reader.ReadBit();
        return new BasicQos(prefetchSize, prefetchCount, global);
    }

    public int GetRequiredBufferSize() =>
        4 // prefetch-size
        + 2 // prefetch-count
        + 1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLong(PrefetchSize);
        writer.WriteShort(PrefetchCount);
        writer.WriteBit(Global);
        return writer.Position;
    }
}
