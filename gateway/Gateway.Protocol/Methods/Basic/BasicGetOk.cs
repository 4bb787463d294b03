using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.get-ok (60, 71), server → client. Fields in spec order:
/// delivery-tag longlong, redelivered bit, exchange shortstr, routing-key shortstr, message-count long.
/// Carries content: the pulled message and how many messages remain ready.
/// </summary>
public readonly struct BasicGetOk : IAmqpMethod<BasicGetOk>
{
    public BasicGetOk(
        ulong deliveryTag,
        bool redelivered,
        string exchange,
        string routingKey,
        uint messageCount)
    {
        DeliveryTag = deliveryTag;
        Redelivered = redelivered;
        Exchange = exchange;
        RoutingKey = routingKey;
        MessageCount = messageCount;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicGetOk;

    public ulong DeliveryTag { get; }

    public bool Redelivered { get; }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public uint MessageCount { get; }

    public static BasicGetOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var deliveryTag = reader.ReadLongLong();
        var redelivered = reader.ReadBit();
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        var messageCount = reader.ReadLong();
        return new BasicGetOk(deliveryTag, redelivered, exchange, routingKey, messageCount);
    }

    public int GetRequiredBufferSize() =>
        8 // delivery-tag
        + 1 // one bit in its own octet
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey)
        + 4; // message-count

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongLong(DeliveryTag);
        writer.WriteBit(Redelivered);
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        writer.WriteLong(MessageCount);
        return writer.Position;
    }
}
