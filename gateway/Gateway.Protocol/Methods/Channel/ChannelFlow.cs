using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Channel;

/// <summary>
/// channel.flow (20, 20), both directions: active=false asks the peer to stop sending content.
/// </summary>
public readonly struct ChannelFlow : IAmqpMethod<ChannelFlow>
{
    public ChannelFlow(bool active)
    {
        Active = active;
    }

    public static AmqpMethodId Id => AmqpMethodId.ChannelFlow;

    public bool Active { get; }

    public static ChannelFlow Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var active = reader.ReadBit();
        return new ChannelFlow(active);
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
