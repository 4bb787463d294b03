using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Queue;

/// <summary>
/// queue.bind-ok (50, 21), server → client; no arguments.
/// </summary>
public readonly struct QueueBindOk : IAmqpMethod<QueueBindOk>
{
    public static AmqpMethodId Id => AmqpMethodId.QueueBindOk;

    public static QueueBindOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
