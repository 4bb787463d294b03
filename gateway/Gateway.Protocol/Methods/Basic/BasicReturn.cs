using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.return (60, 50), server → client. Fields in spec order:
/// reply-code short, reply-text shortstr, exchange shortstr, routing-key shortstr.
/// Carries content: a mandatory message that no queue took, with the reason (312 NO_ROUTE).
/// </summary>
public readonly struct BasicReturn : IAmqpMethod<BasicReturn>
{
    public BasicReturn(ushort replyCode, string replyText, string exchange, string routingKey)
    {
        ReplyCode = replyCode;
        ReplyText = replyText;
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicReturn;

    public ushort ReplyCode { get; }

    public string ReplyText { get; }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public static BasicReturn Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var replyCode = reader.ReadShort();
        var replyText = reader.ReadShortStr();
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        return new BasicReturn(replyCode, replyText, exchange, routingKey);
    }

    public int GetRequiredBufferSize() =>
        2 // reply-code
        + WireWriter.ShortStrSize(ReplyText)
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(ReplyCode);
        writer.WriteShortStr(ReplyText);
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        return writer.Position;
    }
}
