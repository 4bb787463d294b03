using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.update-secret-ok (10, 71), server → client; no arguments.
/// </summary>
public readonly struct ConnectionUpdateSecretOk : IAmqpMethod<ConnectionUpdateSecretOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ConnectionUpdateSecretOk;

    public static ConnectionUpdateSecretOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
