using System.Buffers;
using System.Buffers.Binary;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Frames;

/// <summary>
/// One frame, its payload a slice of the connection's receive buffer (no copy). Valid only until
/// the reader advances past it.
/// </summary>
public readonly struct Frame
{
    public Frame(FrameType type, ushort channel, ReadOnlySequence<byte> payload)
    {
        Type = type;
        Channel = channel;
        Payload = payload;
    }

    public FrameType Type { get; }

    public ushort Channel { get; }

    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>For a method frame: class-id and method-id, the first four payload octets.</summary>
    public AmqpMethodId ReadMethodId()
    {
        if (Payload.Length < 4)
        {
            ThrowHelper.ThrowTruncated("method frame");
        }

        Span<byte> ids = stackalloc byte[4];
        Payload.Slice(0, 4).CopyTo(ids);
        return (AmqpMethodId)BinaryPrimitives.ReadUInt32BigEndian(ids);
    }

    /// <summary>
    /// The payload as one span: a slice of the buffer when it is contiguous (the common case),
    /// otherwise copied into <paramref name="scratch"/>, which must hold frame_max bytes.
    /// </summary>
    public ReadOnlySpan<byte> GetContiguousPayload(Span<byte> scratch)
    {
        if (Payload.IsSingleSegment)
        {
            return Payload.FirstSpan;
        }

        var length = (int)Payload.Length;
        Payload.CopyTo(scratch);
        return scratch[..length];
    }
}
