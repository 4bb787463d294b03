using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.unbind (50, 50), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, exchange shortstr, routing-key shortstr, arguments table.
/// Removes a queue binding. Unlike queue.bind it has no no-wait bit: the table follows the routing key directly.
/// </summary>
public readonly struct QueueUnbind : IAmqpMethod<QueueUnbind>
{
    public QueueUnbind(string queue, string exchange, string routingKey, FieldTable? arguments = null)
    {
        Queue = queue;
        Exchange = exchange;
        RoutingKey = routingKey;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.QueueUnbind;

    public string Queue { get; }

    public string Exchange { get; }

    public string RoutingKey { get; }

    public FieldTable? Arguments { get; }

    public static QueueUnbind Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var exchange = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        var table = reader.ReadTable();
        return new QueueUnbind(queue, exchange, routingKey, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(RoutingKey)
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(RoutingKey);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
