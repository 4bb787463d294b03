using System.Buffers;
using System.Buffers.Binary;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Frames;

/// <summary>
/// Writes whole frames into an <see cref="IBufferWriter{T}"/> (a PipeWriter on the server). Each
/// frame is sized first and written into one span, so nothing is copied twice.
/// </summary>
public static class FrameWriter
{
    public static void WriteProtocolHeader(IBufferWriter<byte> output)
    {
        output.Write(AmqpConstants.ProtocolHeader);
    }

    public static void WriteMethod<TMethod>(IBufferWriter<byte> output, ushort channel, in TMethod method)
        where TMethod : struct, IAmqpMethod<TMethod>
    {
        var payloadSize = 4 + method.GetRequiredBufferSize();
        var span = output.GetSpan(AmqpConstants.FrameOverhead + payloadSize);
        WriteFrameHeader(span, FrameType.Method, channel, (uint)payloadSize);
        BinaryPrimitives.WriteUInt32BigEndian(span[AmqpConstants.FrameHeaderSize..], (uint)TMethod.Id);
        var written = method.WriteTo(span[(AmqpConstants.FrameHeaderSize + 4)..]);
        if (written != payloadSize - 4)
        {
            ThrowHelper.ThrowDestinationTooSmall();
        }

        span[AmqpConstants.FrameHeaderSize + payloadSize] = AmqpConstants.FrameEnd;
        output.Advance(AmqpConstants.FrameOverhead + payloadSize);
    }

    public static void WriteHeartbeat(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(AmqpConstants.FrameOverhead);
        WriteFrameHeader(span, FrameType.Heartbeat, 0, 0);
        span[AmqpConstants.FrameHeaderSize] = AmqpConstants.FrameEnd;
        output.Advance(AmqpConstants.FrameOverhead);
    }

    /// <summary>
    /// Writes a content header frame and the body frames. Bodies are split so no frame exceeds
    /// frame_max: each body payload is at most frame_max − 8 (spec §4.2.6.2; RabbitMQ's
    /// rabbit_binary_generator splits at FrameMax - ?EMPTY_FRAME_SIZE). frame_max 0 means no limit.
    /// </summary>
    public static void WriteContent(
        IBufferWriter<byte> output,
        ushort channel,
        ushort classId,
        ReadOnlySpan<byte> propertyBytes,
        ReadOnlySequence<byte> body,
        uint frameMax)
    {
        if (frameMax != 0 && frameMax <= AmqpConstants.FrameOverhead)
        {
            // Negotiation never allows this (minimum 4096); refuse rather than loop on empty frames.
            throw new ArgumentOutOfRangeException(nameof(frameMax), frameMax, "frame_max leaves no room for a body payload");
        }

        var header = new ContentHeader(classId, (ulong)body.Length, propertyBytes);
        var headerSize = header.GetRequiredBufferSize();
        var span = output.GetSpan(AmqpConstants.FrameOverhead + headerSize);
        WriteFrameHeader(span, FrameType.Header, channel, (uint)headerSize);
        header.WriteTo(span[AmqpConstants.FrameHeaderSize..]);
        span[AmqpConstants.FrameHeaderSize + headerSize] = AmqpConstants.FrameEnd;
        output.Advance(AmqpConstants.FrameOverhead + headerSize);

        var maxBodyPayload = frameMax == 0 ? long.MaxValue : frameMax - AmqpConstants.FrameOverhead;
        while (body.Length > 0)
        {
            var chunk = body.Slice(0, Math.Min(body.Length, maxBodyPayload));
            var chunkSize = (int)chunk.Length;
            var frameSpan = output.GetSpan(AmqpConstants.FrameHeaderSize);
            WriteFrameHeader(frameSpan, FrameType.Body, channel, (uint)chunkSize);
            output.Advance(AmqpConstants.FrameHeaderSize);
            foreach (var segment in chunk)
            {
                output.Write(segment.Span);
            }

            output.GetSpan(1)[0] = AmqpConstants.FrameEnd;
            output.Advance(1);
            body = body.Slice(chunk.End);
        }
    }

    public static void WriteContent(
        IBufferWriter<byte> output,
        ushort channel,
        ushort classId,
        ReadOnlySpan<byte> propertyBytes,
        ReadOnlyMemory<byte> body,
        uint frameMax) =>
        WriteContent(output, channel, classId, propertyBytes, new ReadOnlySequence<byte>(body), frameMax);

    private static void WriteFrameHeader(Span<byte> span, FrameType type, ushort channel, uint payloadSize)
    {
        span[0] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], channel);
        BinaryPrimitives.WriteUInt32BigEndian(span[3..], payloadSize);
    }
}
