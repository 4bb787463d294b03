using System.Buffers.Binary;
using System.Text;

namespace Gateway.Log.Commit;

/// <summary>
/// The on-disk layout of one commit-log record (all integers little-endian):
/// <code>
///  0 u32 length        whole record, header included; 0 marks the end of a segment's data
///  4 u32 crc32c        over bytes [8, length)
///  8 u64 position      the record's own commit-log position (a stale record read elsewhere fails)
/// 16 i64 timestamp     Unix milliseconds
/// 24 u32 routingKeyHash
/// 28 u16 topicCount
/// 30 u8  kind          1 = message, 2 = topic created, 3 = topic deleted (name in the topic list)
/// 31 u8  flags         bit 0: batch continues (another record of the same atomic batch follows); other bits 0
/// 32 u32 propertiesLength
/// 36 u32 bodyLength
/// 40 topicCount × (u16 utf8Length, utf8 bytes), then properties, then body
/// </code>
/// </summary>
internal static class RecordFormat
{
    public const int HeaderSize = 40;

    /// <summary>
    /// Flags bit: this record is not the last of an atomic batch (<see cref="CommitLog.AppendBatchAsync"/>).
    /// Recovery keeps the records of a batch only once it finds the batch's last record (bit clear) intact.
    /// </summary>
    public const byte BatchContinues = 1;
    public const int MaxTopicNameBytes = 255;

    /// <summary>Bytes the record for <paramref name="message"/> takes; validates limits.</summary>
    public static int Measure(LogMessage message)
    {
        ArgumentNullException.ThrowIfNull(message.Topics);
        if (message.Topics.Count is 0 or > ushort.MaxValue)
        {
            throw new ArgumentException("A message needs between 1 and 65535 destination topics.", nameof(message));
        }

        long size = HeaderSize + (long)message.Properties.Length + message.Body.Length;
        foreach (string topic in message.Topics)
        {
            int n = Encoding.UTF8.GetByteCount(topic);
            if (n is 0 or > MaxTopicNameBytes)
            {
                throw new ArgumentException($"Topic names are 1 to {MaxTopicNameBytes} UTF-8 bytes.", nameof(message));
            }

            size += 2 + n;
        }

        return size <= int.MaxValue / 2
            ? (int)size
            : throw new ArgumentException("Message too large for the commit log.", nameof(message));
    }

    /// <summary>Writes the record into <paramref name="destination"/> (exactly <paramref name="length"/> bytes).</summary>
    public static void Write(Span<byte> destination, LogMessage message, RecordKind kind, long position, int length, byte flags = 0)
    {
        Span<byte> record = destination[..length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)length);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], position);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], message.Timestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(record[24..], message.RoutingKeyHash);
        BinaryPrimitives.WriteUInt16LittleEndian(record[28..], (ushort)message.Topics.Count);
        record[30] = (byte)kind;
        record[31] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(record[32..], (uint)message.Properties.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[36..], (uint)message.Body.Length);
        int at = HeaderSize;
        foreach (string topic in message.Topics)
        {
            int n = Encoding.UTF8.GetBytes(topic, record[(at + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(record[at..], (ushort)n);
            at += 2 + n;
        }

        message.Properties.Span.CopyTo(record[at..]);
        at += message.Properties.Length;
        message.Body.Span.CopyTo(record[at..]);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..]));
    }

    /// <summary>
    /// The record length announced by a header, or 0 for the end-of-data marker; -1 if the header
    /// cannot belong to a record at <paramref name="position"/> that fits in <paramref name="available"/> bytes.
    /// </summary>
    public static int ReadLength(ReadOnlySpan<byte> header, long position, long available)
    {
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length == 0)
        {
            return 0;
        }

        if (length < HeaderSize || length > available || length > int.MaxValue / 2)
        {
            return -1;
        }

        return BinaryPrimitives.ReadInt64LittleEndian(header[8..]) == position ? (int)length : -1;
    }

    /// <summary>Checks a complete record (checksum, position, internal lengths).</summary>
    public static bool IsValid(ReadOnlySpan<byte> record, long position)
    {
        if (record.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(record) != (uint)record.Length
            || BinaryPrimitives.ReadInt64LittleEndian(record[8..]) != position
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32C.Compute(record[8..])
            || record[30] is < (byte)RecordKind.Message or > (byte)RecordKind.TopicDeleted
            || (record[31] & ~BatchContinues) != 0)
        {
            return false;
        }

        long at = HeaderSize;
        int topics = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
        for (int i = 0; i < topics; i++)
        {
            if (at + 2 > record.Length)
            {
                return false;
            }

            at += 2 + BinaryPrimitives.ReadUInt16LittleEndian(record[(int)at..]);
        }

        at += BinaryPrimitives.ReadUInt32LittleEndian(record[32..]);
        at += BinaryPrimitives.ReadUInt32LittleEndian(record[36..]);
        return at == record.Length;
    }

    /// <summary>
    /// Decodes what an index needs from a record already checked with <see cref="IsValid"/>: kind,
    /// timestamp, routing-key hash and topics, without copying properties or body.
    /// </summary>
    public static (RecordKind Kind, LogMessage Header) DecodeHeader(ReadOnlySpan<byte> record)
    {
        int topicCount = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
        var topics = new string[topicCount];
        int at = HeaderSize;
        for (int i = 0; i < topicCount; i++)
        {
            int n = BinaryPrimitives.ReadUInt16LittleEndian(record[at..]);
            topics[i] = Encoding.UTF8.GetString(record.Slice(at + 2, n));
            at += 2 + n;
        }

        var header = new LogMessage(
            default, default, BinaryPrimitives.ReadInt64LittleEndian(record[16..]), topics, BinaryPrimitives.ReadUInt32LittleEndian(record[24..]));
        return ((RecordKind)record[30], header);
    }

    /// <summary>Whether a record already checked with <see cref="IsValid"/> has a successor in its atomic batch.</summary>
    public static bool ContinuesBatch(ReadOnlySpan<byte> record) => (record[31] & BatchContinues) != 0;

    /// <summary>Decodes a record already checked with <see cref="IsValid"/>; copies its payload.</summary>
    public static CommitLogRecord Decode(ReadOnlySpan<byte> record, long position)
    {
        long timestamp = BinaryPrimitives.ReadInt64LittleEndian(record[16..]);
        uint routingKeyHash = BinaryPrimitives.ReadUInt32LittleEndian(record[24..]);
        int topicCount = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
        int propertiesLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[32..]);
        int bodyLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[36..]);
        var topics = new string[topicCount];
        int at = HeaderSize;
        for (int i = 0; i < topicCount; i++)
        {
            int n = BinaryPrimitives.ReadUInt16LittleEndian(record[at..]);
            topics[i] = Encoding.UTF8.GetString(record.Slice(at + 2, n));
            at += 2 + n;
        }

        byte[] properties = record.Slice(at, propertiesLength).ToArray();
        byte[] body = record.Slice(at + propertiesLength, bodyLength).ToArray();
        return new CommitLogRecord(position, record.Length, timestamp, routingKeyHash, topics, properties, body)
        {
            Kind = (RecordKind)record[30],
        };
    }
}

/// <summary>One record read from the commit log.</summary>
/// <param name="Position">Its commit-log position.</param>
/// <param name="Length">Its size on disk, header included; the next record starts at Position + Length (or in the next segment).</param>
public sealed record CommitLogRecord(
    long Position,
    int Length,
    long Timestamp,
    uint RoutingKeyHash,
    IReadOnlyList<string> Topics,
    ReadOnlyMemory<byte> Properties,
    ReadOnlyMemory<byte> Body)
{
    /// <summary>Message or topic lifecycle record.</summary>
    internal RecordKind Kind { get; init; } = RecordKind.Message;
}

/// <summary>What a commit-log record is.</summary>
internal enum RecordKind : byte
{
    Message = 1,
    TopicCreated = 2,
    TopicDeleted = 3,
}
