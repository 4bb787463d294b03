using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.declare-ok (50, 11), server → client. Fields in spec order:
/// queue shortstr, message-count long, consumer-count long.
/// The queue's name (the generated one for a server-named queue), its ready-message count and its consumer count.
/// </summary>
public readonly struct QueueDeclareOk : IAmqpMethod<QueueDeclareOk>
{
    public QueueDeclareOk(string queue, uint messageCount, uint consumerCount)
    {
        Queue = queue;
        MessageCount = messageCount;
        ConsumerCount = consumerCount;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueDeclareOk;

    public string Queue { get; }

    public uint MessageCount { get; }

    public uint ConsumerCount { get; }

    public static QueueDeclareOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var queue = reader.ReadShortStr();
        var messageCount = reader.ReadLong();
        var consumerCount = reader.ReadLong();
        return new QueueDeclareOk(queue, messageCount, consumerCount);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(Queue)
        + 4 // message-count
        + 4; // consumer-count

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(Queue);
        writer.WriteLong(MessageCount);
        writer.WriteLong(ConsumerCount);
        return writer.Position;
    }
}
