using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.ack (60, 80), both directions. Fields in spec order:
/// delivery-tag longlong, multiple bit.
/// Client → server settles deliveries; server → client confirms publishes in confirm mode. multiple covers every tag up to this one.
/// </summary>
public readonly struct BasicAck : IAmqpMethod<BasicAck>
{
    public BasicAck(ulong deliveryTag, bool multiple = false)
    {
        DeliveryTag = deliveryTag;
        Multiple = multiple;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicAck;

    public ulong DeliveryTag { get; }

    public bool Multiple { get; }

    public static BasicAck Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var deliveryTag = reader.ReadLongLong();
        var multiple = reader.ReadBit();
        return new BasicAck(deliveryTag, multiple);
    }

    public int GetRequiredBufferSize() =>
        8 // delivery-tag
        + 1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongLong(DeliveryTag);
        writer.WriteBit(Multiple);
        return writer.Position;
    }
}
