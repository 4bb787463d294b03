using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.purge-ok (50, 31), server → client. Fields in spec order:
/// message-count long.
/// How many messages the purge removed.
/// </summary>
public readonly struct QueuePurgeOk : IAmqpMethod<QueuePurgeOk>
{
    public QueuePurgeOk(uint messageCount)
    {
        MessageCount = messageCount;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueuePurgeOk;

    public uint MessageCount { get; }

    public static QueuePurgeOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var messageCount = reader.ReadLong();
        return new QueuePurgeOk(messageCount);
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
