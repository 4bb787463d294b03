using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.purge (50, 30), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, no-wait bit.
/// Removes the queue's ready messages (unacked ones stay).
/// </summary>
public readonly struct QueuePurge : IAmqpMethod<QueuePurge>
{
    public QueuePurge(string queue, bool noWait = false)
    {
        Queue = queue;
        NoWait = noWait;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueuePurge;

    public string Queue { get; }

    public bool NoWait { get; }

    public static QueuePurge Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var noWait = reader.ReadBit();
        return new QueuePurge(queue, noWait);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + 1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteBit(NoWait);
        return writer.Position;
    }
}
