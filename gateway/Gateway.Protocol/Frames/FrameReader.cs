using System.Buffers;
using System.Buffers.Binary;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Frames;

/// <summary>
/// Splits a receive buffer into frames (spec §4.2.3 "General Frame Format"):
/// <code>
/// 0      1         3             7                  size+7  size+8
/// +------+---------+-------------+  +------------+  +-----------+
/// | type | channel |    size     |  |  payload   |  | frame-end |
/// +------+---------+-------------+  +------------+  +-----------+
///  octet   short       long          size octets       0xCE
/// </code>
/// The size is checked against frame_max as soon as the 7-byte header is in, before any payload is
/// buffered, so an oversize frame costs no memory. The payload is returned as a slice, not a copy.
/// </summary>
public static class FrameReader
{
    /// <summary>
    /// Tries to take one frame off the front of <paramref name="buffer"/>. Returns false when more
    /// bytes are needed. Throws <see cref="AmqpProtocolException"/> (501) on an oversize frame, an
    /// unknown frame type, or a frame-end octet other than 0xCE.
    /// </summary>
    /// <param name="maxPayloadSize">
    /// The largest payload accepted. RabbitMQ (rabbit_reader, FRAME_SIZE_FUDGE) lets a payload be as
    /// large as the negotiated frame_max; 0 means no limit was negotiated.
    /// </param>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, uint maxPayloadSize, out Frame frame)
    {
        frame = default;
        if (buffer.Length < AmqpConstants.FrameHeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[AmqpConstants.FrameHeaderSize];
        buffer.Slice(0, AmqpConstants.FrameHeaderSize).CopyTo(header);
        var type = header[0];
        var channel = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
        var size = BinaryPrimitives.ReadUInt32BigEndian(header[3..]);

        if (type is not ((byte)FrameType.Method or (byte)FrameType.Header or (byte)FrameType.Body or (byte)FrameType.Heartbeat))
        {
            throw new AmqpProtocolException(ReplyCode.FrameError, $"type {type}, channel {channel}: unknown frame type");
        }

        if (maxPayloadSize != 0 && size > maxPayloadSize)
        {
            throw new AmqpProtocolException(
                ReplyCode.FrameError,
                $"type {type}, channel {channel}: frame_too_large, payload {size} > frame_max {maxPayloadSize}");
        }

        var total = AmqpConstants.FrameHeaderSize + (long)size + 1;
        if (buffer.Length < total)
        {
            return false;
        }

        var endOctet = buffer.Slice(total - 1, 1).FirstSpan[0];
        if (endOctet != AmqpConstants.FrameEnd)
        {
            throw new AmqpProtocolException(
                ReplyCode.FrameError,
                $"type {type}, channel {channel}: frame end octet 0x{endOctet:X2} is not 0xCE");
        }

        frame = new Frame((FrameType)type, channel, buffer.Slice(AmqpConstants.FrameHeaderSize, size));
        buffer = buffer.Slice(total);
        return true;
    }
}
