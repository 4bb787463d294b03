using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.consume (60, 20), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, consumer-tag shortstr, no-local/no-ack/exclusive/no-wait bits, arguments table.
/// Starts a consumer. An empty consumer tag asks the server to generate one (amq.ctag-…).
/// </summary>
public readonly struct BasicConsume : IAmqpMethod<BasicConsume>
{
    public BasicConsume(
        string queue,
        string consumerTag,
        bool noLocal = false,
        bool noAck = false,
        bool exclusive = false,
        bool noWait = false,
        FieldTable? arguments = null)
    {
        Queue = queue;
        ConsumerTag = consumerTag;
        NoLocal = noLocal;
        NoAck = noAck;
        Exclusive = exclusive;
        NoWait = noWait;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicConsume;

    public string Queue { get; }

    public string ConsumerTag { get; }

    public bool NoLocal { get; }

    public bool NoAck { get; }

    public bool Exclusive { get; }

    public bool NoWait { get; }

    public FieldTable? Arguments { get; }

    public static BasicConsume Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var consumerTag = reader.ReadShortStr();
        var noLocal = reader.ReadBit();
        var noAck = reader.ReadBit();
        var exclusive = reader.ReadBit();
        var noWait = reader.ReadBit();
        var table = reader.ReadTable();
        return new BasicConsume(queue, consumerTag, noLocal, noAck, exclusive, noWait, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Queue)
        + WireWriter.ShortStrSize(ConsumerTag)
        + 1 // four bits in one octet
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Queue);
        writer.WriteShortStr(ConsumerTag);
        writer.WriteBit(NoLocal);
        writer.WriteBit(NoAck);
        writer.WriteBit(Exclusive);
        writer.WriteBit(NoWait);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
