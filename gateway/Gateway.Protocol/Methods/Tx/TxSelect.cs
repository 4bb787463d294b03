using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Tx;

/// <summary>
/// tx.select (90, 10), client → server; no arguments.
/// </summary>
public readonly struct TxSelect : IAmqpMethod<TxSelect>
{
    public static AmqpMethodId Id => AmqpMethodId.TxSelect;

    public static TxSelect Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
