using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.delete (50, 40), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, if-unused/if-empty/no-wait bits.
/// Deletes a queue; deleting one that does not exist still succeeds on RabbitMQ.
/// </summary>
public readonly struct QueueDelete : IAmqpMethod<QueueDelete>
{
    public QueueDelete(string queue, bool ifUnused = false, bool ifEmpty = false, bool noWait = false)
    {
        Queue = queue;
        IfUnused = ifUnused;
        IfEmpty = ifEmpty;
        NoWait = noWait;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueDelete;

    public string Queue { get; }

    public bool IfUnused { get; }

    public bool IfEmpty { get; }

    public bool NoWait { get; }

    public static QueueDelete Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var ifUnused = reader.ReadBit();
        var ifEmpty = reader.ReadBit();
        var noWait = reader.ReadBit();
        return new QueueDelete(queue, ifUnused, ifEmpty, noWait);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + 1; // three bits in one octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteBit(IfUnused);
        writer.WriteBit(IfEmpty);
        writer.WriteBit(NoWait);
        return writer.Position;
    }
}
