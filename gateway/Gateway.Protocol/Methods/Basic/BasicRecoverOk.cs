using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.recover-ok (60, 111), server → client; no arguments.
/// </summary>
public readonly struct BasicRecoverOk : IAmqpMethod<BasicRecoverOk>
{
    public static AmqpMethodId Id => AmqpMethodId.BasicRecoverOk;

    public static BasicRecoverOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
