using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods.Channel;

/// <summary>
/// channel.close-ok (20, 41), both directions; no arguments.
/// </summary>
public readonly struct ChannelCloseOk : IAmqpMethod<ChannelCloseOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ChannelCloseOk;

    public static ChannelCloseOk Read(ReadOnlySpan<byte> arguments) => default;

    public int GetRequiredBufferSize() => 0;

    public int WriteTo(Span<byte> destination) => 0;
}
