using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.unbind (40, 40), client → server. Fields in spec order:
/// reserved-1 short, destination shortstr, source shortstr, routing-key shortstr, no-wait bit, arguments table.
/// A RabbitMQ extension: removes an exchange-to-exchange binding.
/// </summary>
public readonly struct ExchangeUnbind : IAmqpMethod<ExchangeUnbind>
{
    public ExchangeUnbind(
        string destination,
        string source,
        string routingKey,
        bool noWait = false,
        FieldTable? arguments = null)
    {
        Destination = destination;
        Source = source;
        RoutingKey = routingKey;
        NoWait = noWait;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.ExchangeUnbind;

    public string Destination { get; }

    public string Source { get; }

    public string RoutingKey { get; }

    public bool NoWait { get; }

    public FieldTable? Arguments { get; }

    public static ExchangeUnbind Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var destination = reader.ReadShortStr();
        var source = reader.ReadShortStr();
        var routingKey = reader.ReadShortStr();
        var noWait = reader.ReadBit();
        var table = reader.ReadTable();
        return new ExchangeUnbind(destination, source, routingKey, noWait, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Destination)
        + WireWriter.ShortStrSize(Source)
        + WireWriter.ShortStrSize(RoutingKey)
        + 1 // one bit in its own octet
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Destination);
        writer.WriteShortStr(Source);
        writer.WriteShortStr(RoutingKey);
        writer.WriteBit(NoWait);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
