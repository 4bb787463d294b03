using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.deliver (60, 60), server → client. Fields in spec order:
/// consumer-tag shortstr, delivery-tag longlong, redelivered bit, exchange shortstr, routing-key shortstr.
/// Carries content: a message pushed to a consumer.
/// </summary>
public readonly struct BasicDeliver : IAmqpMethod<BasicDeliver>
{
    public BasicDeliver(
        string consumerTag,
        ulong deliveryTag,
        bool redelivered,
        string exchange,
        string routingKey)
    {
        ConsumerTag = consumerTag;
        DeliveryTag = deliveryTag;
        Redelivered = redelivered;
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicDeliver;

    public string ConsumerTag { get; }

    public ulong DeliveryTag { get; }

    public bool Redelivered { get; }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public static BasicDeliver Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var consumerTag = reader.ReadShortStr();
        var deliveryTag = reader.ReadLongLong();
        var redelivered = reader.ReadBit();
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        return new BasicDeliver(consumerTag, deliveryTag, redelivered, exchange, routingKey);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(ConsumerTag)
        + 8 // delivery-tag
        + 1 // one bit in its own octet
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(ConsumerTag);
        writer.WriteLongLong(DeliveryTag);
        writer.WriteBit(Redelivered);
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        return writer.Position;
    }
}
