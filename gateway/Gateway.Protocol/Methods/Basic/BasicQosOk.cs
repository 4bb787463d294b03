using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.qos-ok (60, 11), server → client; no arguments.
/// </summary>
public readonly struct BasicQosOk : IAmqpMethod<BasicQosOk>
{
    public static AmqpMethodId Id => AmqpMethodId.BasicQosOk;

    public static BasicQosOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
