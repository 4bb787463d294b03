using System.Buffers.Binary;
using System.Text;

namespace Gateway.Broker.Delays;

/// <summary>
/// The opaque properties of a record in a delay topic: when it is due and where it goes, around the caller's own
/// properties (which the log keeps as they are and the store hands on unchanged when the message moves).
/// <code>
/// u8 version (1) | i64 due (Unix ms) | u8 target kind | u16 length, virtual host | u16 length, exchange or queue |
/// u16 length, routing key | the caller's properties
/// </code>
/// </summary>
internal static class DelayEnvelope
{
    private const byte Version = 1;
    private const int FixedLength = 1 + 8 + 1 + 2 + 2 + 2;

    public static byte[] Encode(DelayTarget target, long dueAtUnixMs, ReadOnlySpan<byte> properties)
    {
        (DelayOwnerKind kind, string name, string routingKey) = target switch
        {
            ExchangeDelayTarget exchange => (DelayOwnerKind.Exchange, exchange.Exchange, exchange.RoutingKey),
            QueueDelayTarget queue => (DelayOwnerKind.Queue, queue.Queue, ""),
            _ => throw new ArgumentException($"unknown delay target {target.GetType().Name}", nameof(target)),
        };
        byte[] virtualHost = Encoding.UTF8.GetBytes(target.VirtualHost);
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        byte[] keyBytes = Encoding.UTF8.GetBytes(routingKey);
        byte[] envelope = new byte[FixedLength + virtualHost.Length + nameBytes.Length + keyBytes.Length + properties.Length];
        Span<byte> span = envelope;
        span[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], dueAtUnixMs);
        span[9] = (byte)kind;
        int at = 10;
        foreach (byte[] field in (byte[][])[virtualHost, nameBytes, keyBytes])
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[at..], checked((ushort)field.Length));
            field.CopyTo(span[(at + 2)..]);
            at += 2 + field.Length;
        }

        properties.CopyTo(span[at..]);
        return envelope;
    }

    /// <summary>The due time alone, without decoding names (recovery reads every pending record).</summary>
    public static long DueAt(ReadOnlySpan<byte> envelope)
    {
        RequireVersion(envelope);
        return BinaryPrimitives.ReadInt64BigEndian(envelope[1..]);
    }

    public static (DelayTarget Target, long DueAtUnixMs, ReadOnlyMemory<byte> Properties) Decode(ReadOnlyMemory<byte> envelope)
    {
        ReadOnlySpan<byte> span = envelope.Span;
        long due = DueAt(span);
        var kind = (DelayOwnerKind)span[9];
        int at = 10;
        string virtualHost = ReadString(span, ref at);
        string name = ReadString(span, ref at);
        string routingKey = ReadString(span, ref at);
        DelayTarget target = kind switch
        {
            DelayOwnerKind.Exchange => new ExchangeDelayTarget(virtualHost, name, routingKey),
            DelayOwnerKind.Queue => new QueueDelayTarget(virtualHost, name),
            _ => throw new InvalidDataException($"A delayed message has an unknown target kind {(byte)kind}."),
        };
        return (target, due, envelope[at..]);
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int at)
    {
        int length = BinaryPrimitives.ReadUInt16BigEndian(span[at..]);
        string value = Encoding.UTF8.GetString(span.Slice(at + 2, length));
        at += 2 + length;
        return value;
    }

    private static void RequireVersion(ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < FixedLength || envelope[0] != Version)
        {
            throw new InvalidDataException("A delayed message has an envelope this gateway does not understand.");
        }
    }
}
