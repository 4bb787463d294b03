using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.get (60, 70), client → server. Fields in spec order:
/// reserved-1 short, queue shortstr, no-ack bit.
/// Pulls one message; answered by get-ok (with content) or get-empty.
/// </summary>
public readonly struct BasicGet : IAmqpMethod<BasicGet>
{
    public BasicGet(string queue, bool noAck = false)
    {
        Queue = queue;
        NoAck = noAck;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicGet;

    public string Queue { get; }

    public bool NoAck { get; }

    public static BasicGet Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var queue = reader.ReadShortStr();
        var noAck = reader.ReadBit();
        return new BasicGet(queue, noAck);
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
        writer.WriteBit(NoAck);
        return writer.Position;
    }
}
