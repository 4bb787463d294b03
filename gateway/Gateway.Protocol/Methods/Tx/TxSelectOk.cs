using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.select-ok (90, 11), server → client; no arguments.
/// </summary>
public readonly struct TxSelectOk : IAmqpMethod<TxSelectOk>
{
    public static AmqpMethodId Id => AmqpMethodId.TxSelectOk;

    public static TxSelectOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
