using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.rollback (90, 30), client → server; no arguments.
/// </summary>
public readonly struct TxRollback : IAmqpMethod<TxRollback>
{
    public static AmqpMethodId Id => AmqpMethodId.TxRollback;

    public static TxRollback Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
