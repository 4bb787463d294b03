using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.close-ok (10, 51), both directions; no arguments.
/// </summary>
public readonly struct ConnectionCloseOk : IAmqpMethod<ConnectionCloseOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ConnectionCloseOk;

    public static ConnectionCloseOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
