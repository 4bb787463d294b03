using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Exchange;

/// <summary>
/// exchange.unbind-ok (40, 51), server → client, a RabbitMQ extension; no arguments.
/// Its method id is 51, not 41: a quirk of RabbitMQ's spec file that is on the wire.
/// </summary>
public readonly struct ExchangeUnbindOk : IAmqpMethod<ExchangeUnbindOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ExchangeUnbindOk;

    public static ExchangeUnbindOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
