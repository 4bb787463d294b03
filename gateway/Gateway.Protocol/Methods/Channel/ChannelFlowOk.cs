using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Channel;

/// <summary>
/// channel.flow-ok (20, 21), both directions: the flow state now in effect.
/// </summary>
public readonly struct ChannelFlowOk : IAmqpMethod<ChannelFlowOk>
{
    public ChannelFlowOk(bool active)
    {
        Active = active;
    }

    public static AmqpMethodId Id => AmqpMethodId.ChannelFlowOk;

    public bool Active { get; }

    public static ChannelFlowOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var active = reader.ReadBit();
        return new ChannelFlowOk(active);
    }

    public int GetRequiredBufferSize() =>
        1 /* bits share one octet */;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteBit(Active);
        return writer.Position;
    }
}
