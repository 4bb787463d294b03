using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Confirm;

/// <summary>
/// confirm.select-ok (85, 11), server → client, a RabbitMQ extension; no arguments.
/// </summary>
public readonly struct ConfirmSelectOk : IAmqpMethod<ConfirmSelectOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ConfirmSelectOk;

    public static ConfirmSelectOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
