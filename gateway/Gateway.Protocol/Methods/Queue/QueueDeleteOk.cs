using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.delete-ok (50, 41), server → client. Fields in spec order:
/// message-count long.
/// How many messages were deleted with the queue.
/// </summary>
public readonly struct QueueDeleteOk : IAmqpMethod<QueueDeleteOk>
{
    public QueueDeleteOk(uint messageCount)
    {
        MessageCount = messageCount;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueDeleteOk;

    public uint MessageCount { get; }

    public static QueueDeleteOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var messageCount = reader.ReadLong();
        return new QueueDeleteOk(messageCount);
    }

    public int GetRequiredBufferSize() =>
        4; // message-count

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLong(MessageCount);
        return writer.Position;
    }
}
