using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.declare (50, 10), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, passive/durable/exclusive/auto-delete/no-wait bits, arguments table.
/// This file is the pattern every method struct follows.
/// </summary>
public readonly struct QueueDeclare : IAmqpMethod<QueueDeclare>
{
    public QueueDeclare(
        string queue,
        bool passive = false,
        bool durable = false,
        bool exclusive = false,
        bool autoDelete = false,
        bool noWait = false,
        FieldTable? arguments = null)
    {
        Queue = queue;
        Passive = passive;
        Durable = durable;
        Exclusive = exclusive;
        AutoDelete = autoDelete;
        NoWait = noWait;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueDeclare;

    /// <summary>Empty asks the server to name the queue (amq.gen-…).</summary>
    public string Queue { get; }

    public bool Passive { get; }

    public bool Durable { get; }

    public bool Exclusive { get; }

    public bool AutoDelete { get; }

    public bool NoWait { get; }

    public FieldTable? Arguments { get; }

    public static QueueDeclare Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var passive = reader.ReadBit();
        var durable = reader.ReadBit();
        var exclusive = reader.ReadBit();
        var autoDelete = reader.ReadBit();
        var noWait = reader.ReadBit();
        var table = reader.ReadTable();
        return new QueueDeclare(queue, passive, durable, exclusive, autoDelete, noWait, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + 1 // five bits in one octet
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteBit(Passive);
        writer.WriteBit(Durable);
        writer.WriteBit(Exclusive);
        writer.WriteBit(AutoDelete);
        writer.WriteBit(NoWait);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
