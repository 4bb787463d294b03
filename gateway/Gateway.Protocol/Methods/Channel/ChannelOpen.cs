using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Channel;

/// <summary>
/// channel.open (20, 10), client → server: reserved out-of-band shortstr.
/// </summary>
public readonly struct ChannelOpen : IAmqpMethod<ChannelOpen>
{
    public static AmqpMethodId Id => AmqpMethodId.ChannelOpen;

    public static ChannelOpen Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShortStr(); // reserved1
        return new ChannelOpen();
    }

    public int GetRequiredBufferSize() =>
        1 /* reserved1, empty shortstr */;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(string.Empty); // reserved1
        return writer.Position;
    }
}
