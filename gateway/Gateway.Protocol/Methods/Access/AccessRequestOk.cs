using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Access;

/// <summary>
/// access.request-ok (30, 11), server → client. Fields in spec order:
/// ticket short.
/// The answer to access.request; RabbitMQ always hands out ticket 1.
/// </summary>
public readonly struct AccessRequestOk : IAmqpMethod<AccessRequestOk>
{
    public AccessRequestOk(ushort ticket = 1)
    {
        Ticket = ticket;
    }

    public static AmqpMethodId Id => AmqpMethodId.AccessRequestOk;

    public ushort Ticket { get; }

    public static AccessRequestOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var ticket = reader.ReadShort();
        return new AccessRequestOk(ticket);
    }

    public int GetRequiredBufferSize() =>
        2; // ticket

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(Ticket);
        return writer.Position;
    }
}
