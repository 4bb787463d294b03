using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.unbind-ok (50, 51), server → client; no arguments.
/// </summary>
public readonly struct QueueUnbindOk : IAmqpMethod<QueueUnbindOk>
{
    public static AmqpMethodId Id => AmqpMethodId.QueueUnbindOk;

    public static QueueUnbindOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
