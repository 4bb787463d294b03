using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.declare (40, 10), client → server. Fields in spec order:
/// reserved-1 short, exchange shortstr, type shortstr, passive/durable/auto-delete/internal/no-wait bits, arguments table.
/// Creates an exchange or checks an existing one (passive). RabbitMQ honours auto-delete and internal, which the 0-9-1 text reserves.
/// </summary>
public readonly struct ExchangeDeclare : IAmqpMethod<ExchangeDeclare>
{
    public ExchangeDeclare(
        string exchange,
        string type,
        bool passive = false,
        bool durable = false,
        bool autoDelete = false,
        bool @internal = false,
        bool noWait = false,
        FieldTable? arguments = null)
    {
        Exchange = exchange;
        Type = type;
        Passive = passive;
        Durable = durable;
        AutoDelete = autoDelete;
        Internal = @internal;
        NoWait = noWait;
        Arguments = arguments;
    }

    public static AmqpMethodId Id => AmqpMethodId.ExchangeDeclare;

    public string Exchange { get; }

    /// <summary>direct, fanout, topic, headers or a plugin type such as x-delayed-message.</summary>
    public string Type { get; }

    public bool Passive { get; }

    public bool Durable { get; }

    public bool AutoDelete { get; }

    public bool Internal { get; }

    public bool NoWait { get; }

    public FieldTable? Arguments { get; }

    public static ExchangeDeclare Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShort(); // reserved-1 (ticket)
        var exchange = reader.ReadShortStr();
        var type = reader.ReadShortStr();
        var passive = reader.ReadBit();
        var durable = reader.ReadBit();
        var autoDelete = reader.ReadBit();
        var @internal = reader.ReadBit();
        var noWait = reader.ReadBit();
        var table = reader.ReadTable();
        return new ExchangeDeclare(exchange, type, passive, durable, autoDelete, @internal, noWait, table);
    }

    public int GetRequiredBufferSize() =>
        2 // reserved-1
        + WireWriter.ShortStrSize(Exchange)
        + WireWriter.ShortStrSize(Type)
        + 1 // five bits in one octet
        + WireWriter.TableSize(Arguments);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(0); // reserved-1
        writer.WriteShortStr(Exchange);
        writer.WriteShortStr(Type);
        writer.WriteBit(Passive);
        writer.WriteBit(Durable);
        writer.WriteBit(AutoDelete);
        writer.WriteBit(Internal);
        writer.WriteBit(NoWait);
        writer.WriteTable(Arguments);
        return writer.Position;
    }
}
