using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.bind-ok (40, 31), server → client, a RabbitMQ extension; no arguments.
/// </summary>
public readonly struct ExchangeBindOk : IAmqpMethod<ExchangeBindOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ExchangeBindOk;

    public static ExchangeBindOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
