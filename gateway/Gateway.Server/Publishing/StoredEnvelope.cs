using System.Text;

namespace Gateway.Server.Publishing;

/// <summary>
/// What the gateway stores as a log record's opaque "properties": everything basic.deliver and
/// basic.get-ok need besides the body, so a delivery is rebuilt from the log alone.
/// <code>
/// u8 version (1) | u8 length, exchange (UTF-8) | u8 length, routing key (UTF-8) | the content header's property bytes, as received
/// </code>
/// The property bytes are kept byte for byte (flags and values), so headers such as RabbitMQ.Client's
/// x-dotnet-pub-seq-no come back exactly as published. Exchange names and routing keys are AMQP
/// shortstrs (at most 255 bytes), hence the one-byte lengths.
/// </summary>
internal static class StoredEnvelope
{
    private const byte Version = 1;

    public static byte[] Encode(string exchange, string routingKey, ReadOnlySpan<byte> propertyBytes)
    {
        int exchangeLength = Encoding.UTF8.GetByteCount(exchange);
        int keyLength = Encoding.UTF8.GetByteCount(routingKey);
        byte[] envelope = new byte[3 + exchangeLength + keyLength + propertyBytes.Length];
        envelope[0] = Version;
        envelope[1] = checked((byte)exchangeLength);
        Encoding.UTF8.GetBytes(exchange, envelope.AsSpan(2));
        envelope[2 + exchangeLength] = checked((byte)keyLength);
        Encoding.UTF8.GetBytes(routingKey, envelope.AsSpan(3 + exchangeLength));
        propertyBytes.CopyTo(envelope.AsSpan(3 + exchangeLength + keyLength));
        return envelope;
    }

    public static (string Exchange, string RoutingKey, ReadOnlyMemory<byte> PropertyBytes) Decode(ReadOnlyMemory<byte> envelope)
    {
        ReadOnlySpan<byte> span = envelope.Span;
        if (span.Length < 3 || span[0] != Version)
        {
            throw new InvalidDataException("A stored message has an envelope this gateway does not understand.");
        }

        int exchangeLength = span[1];
        string exchange = Encoding.UTF8.GetString(span.Slice(2, exchangeLength));
        int keyLength = span[2 + exchangeLength];
        string routingKey = Encoding.UTF8.GetString(span.Slice(3 + exchangeLength, keyLength));
        return (exchange, routingKey, envelope[(3 + exchangeLength + keyLength)..]);
    }

    /// <summary>FNV-1a of the routing key's UTF-8 bytes: stable across processes, for the index's filter field.</summary>
    public static uint RoutingKeyHash(string routingKey)
    {
        // A routing key is a shortstr (at most 255 UTF-8 bytes), so this is one publish-path call with no allocation.
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(routingKey.Length, 255))];
        int length = Encoding.UTF8.GetBytes(routingKey.AsSpan(0, Math.Min(routingKey.Length, 255)), bytes);
        uint hash = 2166136261;
        foreach (byte b in bytes[..length])
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }
}
