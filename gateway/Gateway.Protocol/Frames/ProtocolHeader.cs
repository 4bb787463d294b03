using System.Buffers;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Frames;

public enum ProtocolHeaderResult
{
    NeedMoreData,
    /// <summary>"AMQP" 0 0 9 1, or the 0-9 header RabbitMQ also accepts.</summary>
    Accepted,
    /// <summary>
    /// Anything else: RabbitMQ writes its own header back and closes the socket
    /// (rabbit_reader version_negotiation/2), which tells the client what it speaks.
    /// </summary>
    Rejected,
}

/// <summary>The 8-octet protocol header a client sends before any frame (spec §4.2.2).</summary>
public static class ProtocolHeader
{
    public static ProtocolHeaderResult TryRead(ref ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < AmqpConstants.ProtocolHeaderSize)
        {
            // A client that sends a wrong first octet is rejected at once rather than waiting
            // for all eight, so "GET / HTTP" and TLS hellos fail fast.
            return buffer.Length > 0 && !StartsLikeAmqp(buffer) ? ProtocolHeaderResult.Rejected : ProtocolHeaderResult.NeedMoreData;
        }

        Span<byte> header = stackalloc byte[AmqpConstants.ProtocolHeaderSize];
        buffer.Slice(0, AmqpConstants.ProtocolHeaderSize).CopyTo(header);
        buffer = buffer.Slice(AmqpConstants.ProtocolHeaderSize);
        return header.SequenceEqual(AmqpConstants.ProtocolHeader) || header.SequenceEqual(AmqpConstants.ProtocolHeader09)
            ? ProtocolHeaderResult.Accepted
            : ProtocolHeaderResult.Rejected;
    }

    private static bool StartsLikeAmqp(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[4];
        var length = (int)Math.Min(buffer.Length, 4);
        buffer.Slice(0, length).CopyTo(prefix);
        return prefix[..length].SequenceEqual("AMQP"u8[..length]);
    }
}
