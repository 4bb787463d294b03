using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.open-ok (10, 41), server → client: reserved known-hosts shortstr (RabbitMQ sends "").
/// </summary>
public readonly struct ConnectionOpenOk : IAmqpMethod<ConnectionOpenOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ConnectionOpenOk;

    public static ConnectionOpenOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShortStr(); // reserved1
        return new ConnectionOpenOk();
    }

    public int GetRequiredBufferSize() =>
        1 /* reserved1, empty shortstr */;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(string.Empty); // reserved1
        return writer.Position;
    }
}
