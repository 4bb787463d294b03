using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.tune (10, 30), server → client: the server's channel-max, frame-max and heartbeat proposal.
/// </summary>
public readonly struct ConnectionTune : IAmqpMethod<ConnectionTune>
{
    public ConnectionTune(ushort channelMax, uint frameMax, ushort heartbeat)
    {
        ChannelMax = channelMax;
        FrameMax = frameMax;
        Heartbeat = heartbeat;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionTune;

    public ushort ChannelMax { get; }

    public uint FrameMax { get; }

    public ushort Heartbeat { get; }

    public static ConnectionTune Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var channelMax = reader.ReadShort();
        var frameMax = reader.ReadLong();
        var heartbeat = reader.ReadShort();
        return new ConnectionTune(channelMax, frameMax, heartbeat);
    }

    public int GetRequiredBufferSize() =>
        2
        + 4
        + 2;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShort(ChannelMax);
        writer.WriteLong(FrameMax);
        writer.WriteShort(Heartbeat);
        return writer.Position;
    }
}
