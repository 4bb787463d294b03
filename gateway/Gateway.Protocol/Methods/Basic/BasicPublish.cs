using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.publish (60, 40), client → server. Fields in spec order:
/// reserved-1 short, exchange shortstr, routing-key shortstr, mandatory/immediate bits.
/// Carries content (a header frame and body frames follow). immediate=true is refused by RabbitMQ with 540.
/// </summary>
public readonly struct BasicPublish : IAmqpMethod<BasicPublish>
{
    public BasicPublish(string exchange, string routingKey, bool mandatory = false, bool immediate = false)
    {
        Exchange = exchange;
        RoutingKey = routingKey;
        Mandatory = mandatory;
        Immediate = immediate;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicPublish;

    public string Exchange { get; }

    public string RoutingKey { get; }

    public bool Mandatory { get; }

    public bool Immediate { get; }

    public static BasicPublish Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        var mandatory = reader.ReadBit();
        var immediate = reader.ReadBit();
        return new BasicPublish(exchange, routingKey, mandatory, immediate);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey)
        + 1; // two bits in one octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        writer.WriteBit(Mandatory);
        writer.WriteBit(Immediate);
        return writer.Position;
    }
}
