using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.delete-ok (40, 21), server → client; no arguments.
/// </summary>
public readonly struct ExchangeDeleteOk : IAmqpMethod<ExchangeDeleteOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ExchangeDeleteOk;

    public static ExchangeDeleteOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
