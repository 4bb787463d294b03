using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.tune-ok (10, 31), client → server: the values the client settled on.
/// </summary>
public readonly struct ConnectionTuneOk : IAmqpMethod<ConnectionTuneOk>
{
    public ConnectionTuneOk(ushort channelMax, uint frameMax, ushort heartbeat)
    {
        ChannelMax = channelMax;
        FrameMax = frameMax;
        Heartbeat = heartbeat;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionTuneOk;

    public ushort ChannelMax { get; }

    public uint FrameMax { get; }

    public ushort Heartbeat { get; }

    public static ConnectionTuneOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var channelMax = reader.ReadShort();
        var frameMax = reader.ReadLong();
        var heartbeat = reader.ReadShort();
        return new ConnectionTuneOk(channelMax, frameMax, heartbeat);
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
