using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.blocked (10, 60), server → client, a RabbitMQ extension: publishing is blocked for the reason given.
/// </summary>
public readonly struct ConnectionBlocked : IAmqpMethod<ConnectionBlocked>
{
    public ConnectionBlocked(string reason)
    {
        Reason = reason;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionBlocked;

    public string Reason { get; }

    public static ConnectionBlocked Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var reason = reader.ReadShortStr();
        return new ConnectionBlocked(reason);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(Reason);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(Reason);
        return writer.Position;
    }
}
