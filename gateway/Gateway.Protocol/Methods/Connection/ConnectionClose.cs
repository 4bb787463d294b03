using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.close (10, 50), both directions: reply code and text, and the class/method that caused it (0/0 if none).
/// </summary>
public readonly struct ConnectionClose : IAmqpMethod<ConnectionClose>
{
    public ConnectionClose(ushort replyCode, string replyText, ushort classId, ushort methodId)
    {
        ReplyCode = replyCode;
        ReplyText = replyText;
        ClassId = classId;
        MethodId = methodId;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionClose;

    public ushort ReplyCode { get; }

    public string ReplyText { get; }

    public ushort ClassId { get; }

    public ushort MethodId { get; }

    public static ConnectionClose Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var replyCode = reader.ReadShort();
        var replyText = reader.ReadShortStr();
        var classId = reader.ReadShort();
        var methodId = reader.ReadShort();
        return new ConnectionClose(replyCode, replyText, classId, methodId);
    }

    public int GetRequiredBufferSize() =>
        2
        + WireWriter.ShortStrSize(ReplyText)
        + 2
        + 2;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(ReplyCode);
        writer.WriteShortStr(ReplyText);
        writer.WriteShort(ClassId);
        writer.WriteShort(MethodId);
        return writer.Position;
    }
}
