namespace Gateway.Protocol.Spec;

/// <summary>Fixed numbers of the AMQP 0-9-1 wire format (spec §4.2.3 "General Frame Format").</summary>
public static class AmqpConstants
{
    /// <summary>Every frame ends with this octet; anything else is a 501 FRAME_ERROR.</summary>
    public const byte FrameEnd = 0xCE;

    /// <summary>type(1) + channel(2) + size(4).</summary>
    public const int FrameHeaderSize = 7;

    /// <summary>Header plus the frame-end octet: RabbitMQ lets a payload be frame_max - 8 bytes.</summary>
    public const int FrameOverhead = FrameHeaderSize + 1;

    /// <summary>
    /// The smallest frame_max a peer may negotiate. RabbitMQ 4.2 raised it to 8192, but amqplib ≤0.10.5
    /// asks for 4096, and RabbitMQ 3.x (what Debian ships) accepts that, so we do too.
    /// </summary>
    public const uint FrameMinSize = 4096;

    /// <summary>RabbitMQ's connection.tune defaults (rabbit app env: channel_max 2047, frame_max 131072, heartbeat 60).</summary>
    public const ushort DefaultChannelMax = 2047;

    public const uint DefaultFrameMax = 131072;

    public const ushort DefaultHeartbeatSeconds = 60;

    /// <summary>"AMQP" 0 0 9 1: the only header we speak.</summary>
    public static ReadOnlySpan<byte> ProtocolHeader => "AMQP\0\0\u0009\u0001"u8;

    /// <summary>"AMQP" 1 1 0 9: the older 0-9 header, which RabbitMQ also accepts and answers as 0-9-1.</summary>
    public static ReadOnlySpan<byte> ProtocolHeader09 => "AMQP\u0001\u0001\0\u0009"u8;

    public const int ProtocolHeaderSize = 8;
}
