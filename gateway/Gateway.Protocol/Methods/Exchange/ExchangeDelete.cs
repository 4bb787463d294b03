using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.delete (40, 20), client → server. Fields in spec order:
/// reserved-1 short, exchange shortstr, if-unused/no-wait bits.
/// Deletes an exchange; deleting one that does not exist still succeeds on RabbitMQ.
/// </summary>
public readonly struct ExchangeDelete : IAmqpMethod<ExchangeDelete>
{
    public ExchangeDelete(string exchange, bool ifUnused = false, bool noWait = false)
    {
        Exchange = exchange;
        IfUnused = ifUnused;
        NoWait = noWait;
    }

    public static AmqpMethodId Id => AmqpMethodId.ExchangeDelete;

    public string Exchange { get; }

    public bool IfUnused { get; }

    public bool NoWait { get; }

    public static ExchangeDelete Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var exchange = reader.ReadShortStr();
        var ifUnused = reader.ReadBit();
        var noWait = reader.ReadBit();
        return new ExchangeDelete(exchange, ifUnused, noWait);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Exchange)
        + 1; // two bits in one octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Exchange);
        writer.WriteBit(IfUnused);
        writer.WriteBit(NoWait);
        return writer.Position;
    }
}
