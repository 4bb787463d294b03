using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.nack (60, 120), both directions. Fields in spec order:
/// delivery-tag longlong, multiple/requeue bits.
/// A RabbitMQ extension: reject with multiple. Client → server settles deliveries; server → client negatively confirms publishes.
/// </summary>
public readonly struct BasicNack : IAmqpMethod<BasicNack>
{
    public BasicNack(ulong deliveryTag, bool multiple, bool requeue)
    {
        DeliveryTag = deliveryTag;
        Multiple = multiple;
        Requeue = requeue;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicNack;

    public ulong DeliveryTag { get; }

    public bool Multiple { get; }

    public bool Requeue { get; }

    public static BasicNack Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var deliveryTag = reader.ReadLongLong();
        var multiple = reader.ReadBit();
        var requeue = reader.ReadBit();
        return new BasicNack(deliveryTag, multiple, requeue);
    }

    public int GetRequiredBufferSize() =>
        8 // delivery-tag
        + 1; // two bits in one octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongLong(DeliveryTag);
        writer.WriteBit(Multiple);
        writer.WriteBit(Requeue);
        return writer.Position;
    }
}
