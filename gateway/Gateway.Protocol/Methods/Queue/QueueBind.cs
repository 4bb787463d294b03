using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.bind (50, 20), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, exchange shortstr, routing-key shortstr, no-wait bit, arguments table.
/// Binds a queue to an exchange. An empty queue name means the queue last declared on the channel.
/// </summary>
public readonly struct QueueBind : IAmqpMethod<QueueBind>
{
    public QueueBind(
        string queue,
        string exchange,
        string routingKey,
        bool noWait = false,
        FieldTable? arguments = null)
    {
        Queue = queue;
        Exchange = exchange;
        RoutingKey = routingKey;
        NoWait = noWait;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueBind;

    public string Queue { get; }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public bool NoWait { get; }

    public FieldTable? Arguments { get; }

    public static QueueBind Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        var noWait = reader.ReadBit();
        var table = reader.ReadTable();
        return new QueueBind(queue, exchange, routingKey, noWait, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey)
        + 1 // one bit in its own octet
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        writer.WriteBit(NoWait);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
