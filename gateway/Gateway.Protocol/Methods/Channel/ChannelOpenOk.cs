using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Channel;

/// <summary>
/// channel.open-ok (20, 11), server → client: reserved channel-id longstr (RabbitMQ sends "").
/// </summary>
public readonly struct ChannelOpenOk : IAmqpMethod<ChannelOpenOk>
{
    public static AmqpMethodId Id => AmqpMethodId.ChannelOpenOk;

    public static ChannelOpenOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadLongStrBytes(); // reserved1
        return new ChannelOpenOk();
    }

    public int GetRequiredBufferSize() =>
        4 /* reserved1, empty longstr */;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongStr(string.Empty); // reserved1
        return writer.Position;
    }
}
