using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.commit-ok (90, 21), server → client; no arguments.
/// </summary>
public readonly struct TxCommitOk : IAmqpMethod<TxCommitOk>
{
    public static AmqpMethodId Id => AmqpMethodId.TxCommitOk;

    public static TxCommitOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
