using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.update-secret (10, 70), client → server, a RabbitMQ extension: a new secret (e.g. an OAuth2 token) and a reason.
/// </summary>
public readonly struct ConnectionUpdateSecret : IAmqpMethod<ConnectionUpdateSecret>
{
    public ConnectionUpdateSecret(ReadOnlyMemory<byte> newSecret, string reason)
    {
        NewSecret = newSecret;
        Reason = reason;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionUpdateSecret;

    public ReadOnlyMemory<byte> NewSecret { get; }

    public string Reason { get; }

    public static ConnectionUpdateSecret Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var newSecret = reader.ReadLongStrBytes().ToArray();
        var reason = reader.ReadShortStr();
        return new ConnectionUpdateSecret(newSecret, reason);
    }

    public int GetRequiredBufferSize() =>
        4 + NewSecret.Length
        + WireWriter.ShortStrSize(Reason);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongStr(NewSecret.Span);
        writer.WriteShortStr(Reason);
        return writer.Position;
    }
}
