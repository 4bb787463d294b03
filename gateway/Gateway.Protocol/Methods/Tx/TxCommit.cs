using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.commit (90, 20), client → server; no arguments.
/// </summary>
public readonly struct TxCommit : IAmqpMethod<TxCommit>
{
    public static AmqpMethodId Id => AmqpMethodId.TxCommit;

    public static TxCommit Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
