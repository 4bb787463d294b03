using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.secure (10, 20), server → client: a SASL challenge.
/// </summary>
public readonly struct ConnectionSecure : IAmqpMethod<ConnectionSecure>
{
    public ConnectionSecure(ReadOnlyMemory<byte> challenge)
    {
        Challenge = challenge;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionSecure;

    public ReadOnlyMemory<byte> Challenge { get; }

    public static ConnectionSecure Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var challenge = reader.ReadLongStrBytes().ToArray();
        return new ConnectionSecure(challenge);
    }

    public int GetRequiredBufferSize() =>
        4 + Challenge.Length;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongStr(Challenge.Span);
        return writer.Position;
    }
}
