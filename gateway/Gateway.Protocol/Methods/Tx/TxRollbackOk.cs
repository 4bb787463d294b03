using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.rollback-ok (90, 31), server → client; no arguments.
/// </summary>
public readonly struct TxRollbackOk : IAmqpMethod<TxRollbackOk>
{
    public static AmqpMethodId Id => AmqpMethodId.TxRollbackOk;

    public static TxRollbackOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
