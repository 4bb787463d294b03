using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.declare-ok (40, 11), server → client; no arguments.
/// </summary>
public readonly struct ExchangeDeclareOk : IAmqpMethod<ExchangeDeclareOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ExchangeDeclareOk;

    public static ExchangeDeclareOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
