using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.unblocked (10, 61), server → client, a RabbitMQ extension; no arguments.
/// </summary>
public readonly struct ConnectionUnblocked : IAmqpMethod<ConnectionUnblocked>
{
    public static AmqpMethodId Id => AmqpMethodId.ConnectionUnblocked;

    public static ConnectionUnblocked Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
