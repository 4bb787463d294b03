using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.reject (60, 90), client → server. Fields in spec order:
/// delivery-tag longlong, requeue bit.
/// Rejects one delivery; requeue=false discards or dead-letters it.
/// </summary>
public readonly struct BasicReject : IAmqpMethod<BasicReject>
{
    public BasicReject(ulong deliveryTag, bool requeue)
    {
        DeliveryTag = deliveryTag;
        Requeue = requeue;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicReject;

    public ulong DeliveryTag { get; }

    public bool Requeue { get; }

    public static BasicReject Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var deliveryTag = reader.ReadLongLong();
        var requeue = reader.ReadBit();
        return new BasicReject(deliveryTag, requeue);
    }

    public int GetRequiredBufferSize() =>
        8 // delivery-tag
        + 1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongLong(DeliveryTag);
        writer.WriteBit(Requeue);
        return writer.Position;
    }
}
