namespace Gateway.Protocol.Types;

/// <summary>
/// The 14 properties of the basic class's content header, in flag-bit order from bit 15 down
/// (spec §4.2.6.1 and class "basic" fields). A null property is absent (its flag bit is clear).
/// The server normally forwards the raw property bytes untouched; this type is for code that
/// must read or set a property (expiration, headers for CC/BCC, user-id checks).
/// </summary>
public sealed record BasicProperties
{
    public string? ContentType { get; init; }
    public string? ContentEncoding { get; init; }
    public FieldTable? Headers { get; init; }
    public byte? DeliveryMode { get; init; }
    public byte? Priority { get; init; }
    public string? CorrelationId { get; init; }
    public string? ReplyTo { get; init; }
    public string? Expiration { get; init; }
    public string? MessageId { get; init; }
    public AmqpTimestamp? Timestamp { get; init; }
    public string? Type { get; init; }
    public string? UserId { get; init; }
    public string? AppId { get; init; }
    /// <summary>Deprecated by RabbitMQ but still on the wire; passed through.</summary>
    public string? ClusterId { get; init; }

    public static BasicProperties Empty { get; } = new();

    private const ushort ContentTypeFlag = 1 << 15;
    private const ushort ContentEncodingFlag = 1 << 14;
    public const ushort HeadersFlag = 1 << 13;
    private const ushort DeliveryModeFlag = 1 << 12;
    private const ushort PriorityFlag = 1 << 11;
    private const ushort CorrelationIdFlag = 1 << 10;
    public const ushort ReplyToFlag = 1 << 9;
    public const ushort ExpirationFlag = 1 << 8;
    private const ushort MessageIdFlag = 1 << 7;
    private const ushort TimestampFlag = 1 << 6;
    private const ushort TypeFlag = 1 << 5;
    public const ushort UserIdFlag = 1 << 4;
    private const ushort AppIdFlag = 1 << 3;
    private const ushort ClusterIdFlag = 1 << 2;

    /// <summary>
    /// The first property-flags word of encoded properties without decoding them (0 if there is none):
    /// lets a caller test for <see cref="HeadersFlag"/>, <see cref="ExpirationFlag"/>, … and decode only when needed.
    /// </summary>
    public static ushort PeekFlags(ReadOnlySpan<byte> propertyBytes) =>
        propertyBytes.Length >= 2 ? (ushort)((propertyBytes[0] << 8) | propertyBytes[1]) : (ushort)0;

    /// <summary>
    /// The <c>priority</c> property of encoded properties without decoding them: 0 when it is absent (AMQP's
    /// default priority) or the bytes end before it. Skips only the three fields ahead of it (content-type,
    /// content-encoding, headers, by their lengths) and delivery-mode, so a publish to a priority queue costs
    /// no decode; a message without the flag costs one bit test.
    /// </summary>
    public static byte PeekPriority(ReadOnlySpan<byte> propertyBytes)
    {
        ushort flags = PeekFlags(propertyBytes);
        if ((flags & PriorityFlag) == 0)
        {
            return 0;
        }

        int position = 2;
        for (ushort continuation = flags; (continuation & 1) != 0 && position + 2 <= propertyBytes.Length; position += 2)
        {
            continuation = (ushort)((propertyBytes[position] << 8) | propertyBytes[position + 1]);
        }

        if ((flags & ContentTypeFlag) != 0)
        {
            position = position < propertyBytes.Length ? position + 1 + propertyBytes[position] : int.MaxValue;
        }

        if ((flags & ContentEncodingFlag) != 0)
        {
            position = position < propertyBytes.Length ? position + 1 + propertyBytes[position] : int.MaxValue;
        }

        if ((flags & HeadersFlag) != 0)
        {
            position = position <= propertyBytes.Length - 4
                ? (int)Math.Min(int.MaxValue, position + 4L + System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(propertyBytes[position..]))
                : int.MaxValue;
        }

        if ((flags & DeliveryModeFlag) != 0 && position != int.MaxValue)
        {
            position++;
        }

        return position < propertyBytes.Length ? propertyBytes[position] : (byte)0;
    }

    /// <summary>
    /// Decodes the property flags and list (the part of a content header after body-size).
    /// Bit 0 of a flags word means another flags word follows (spec §4.2.6.1); basic uses only
    /// 14 bits, so continuation words are read and ignored, as RabbitMQ does.
    /// </summary>
    public static BasicProperties Read(ReadOnlySpan<byte> propertyBytes)
    {
        var reader = new WireReader(propertyBytes);
        var flags = reader.ReadShort();
        var continuation = flags;
        while ((continuation & 1) != 0)
        {
            continuation = reader.ReadShort();
        }

        return new BasicProperties
        {
            ContentType = (flags & ContentTypeFlag) != 0 ? reader.ReadShortStr() : null,
            ContentEncoding = (flags & ContentEncodingFlag) != 0 ? reader.ReadShortStr() : null,
            Headers = (flags & HeadersFlag) != 0 ? reader.ReadTable() : null,
            DeliveryMode = (flags & DeliveryModeFlag) != 0 ? reader.ReadOctet() : null,
            Priority = (flags & PriorityFlag) != 0 ? reader.ReadOctet() : null,
            CorrelationId = (flags & CorrelationIdFlag) != 0 ? reader.ReadShortStr() : null,
            ReplyTo = (flags & ReplyToFlag) != 0 ? reader.ReadShortStr() : null,
            Expiration = (flags & ExpirationFlag) != 0 ? reader.ReadShortStr() : null,
            MessageId = (flags & MessageIdFlag) != 0 ? reader.ReadShortStr() : null,
            Timestamp = (flags & TimestampFlag) != 0 ? new AmqpTimestamp((long)reader.ReadLongLong()) : null,
            Type = (flags & TypeFlag) != 0 ? reader.ReadShortStr() : null,
            UserId = (flags & UserIdFlag) != 0 ? reader.ReadShortStr() : null,
            AppId = (flags & AppIdFlag) != 0 ? reader.ReadShortStr() : null,
            ClusterId = (flags & ClusterIdFlag) != 0 ? reader.ReadShortStr() : null,
        };
    }

    public int GetRequiredBufferSize()
    {
        var size = 2;
        size += ContentType is null ? 0 : WireWriter.ShortStrSize(ContentType);
        size += ContentEncoding is null ? 0 : WireWriter.ShortStrSize(ContentEncoding);
        size += Headers is null ? 0 : WireWriter.TableSize(Headers);
        size += DeliveryMode is null ? 0 : 1;
        size += Priority is null ? 0 : 1;
        size += CorrelationId is null ? 0 : WireWriter.ShortStrSize(CorrelationId);
        size += ReplyTo is null ? 0 : WireWriter.ShortStrSize(ReplyTo);
        size += Expiration is null ? 0 : WireWriter.ShortStrSize(Expiration);
        size += MessageId is null ? 0 : WireWriter.ShortStrSize(MessageId);
        size += Timestamp is null ? 0 : 8;
        size += Type is null ? 0 : WireWriter.ShortStrSize(Type);
        size += UserId is null ? 0 : WireWriter.ShortStrSize(UserId);
        size += AppId is null ? 0 : WireWriter.ShortStrSize(AppId);
        size += ClusterId is null ? 0 : WireWriter.ShortStrSize(ClusterId);
        return size;
    }

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        ushort flags = 0;
        flags |= ContentType is null ? (ushort)0 : ContentTypeFlag;
        flags |= ContentEncoding is null ? (ushort)0 : ContentEncodingFlag;
        flags |= Headers is null ? (ushort)0 : HeadersFlag;
        flags |= DeliveryMode is null ? (ushort)0 : DeliveryModeFlag;
        flags |= Priority is null ? (ushort)0 : PriorityFlag;
        flags |= CorrelationId is null ? (ushort)0 : CorrelationIdFlag;
        flags |= ReplyTo is null ? (ushort)0 : ReplyToFlag;
        flags |= Expiration is null ? (ushort)0 : ExpirationFlag;
        flags |= MessageId is null ? (ushort)0 : MessageIdFlag;
        flags |= Timestamp is null ? (ushort)0 : TimestampFlag;
        flags |= Type is null ? (ushort)0 : TypeFlag;
        flags |= UserId is null ? (ushort)0 : UserIdFlag;
        flags |= AppId is null ? (ushort)0 : AppIdFlag;
        flags |= ClusterId is null ? (ushort)0 : ClusterIdFlag;
        writer.WriteShort(flags);
        if (ContentType is not null) writer.WriteShortStr(ContentType);
        if (ContentEncoding is not null) writer.WriteShortStr(ContentEncoding);
        if (Headers is not null) writer.WriteTable(Headers);
        if (DeliveryMode is { } deliveryMode) writer.WriteOctet(deliveryMode);
        if (Priority is { } priority) writer.WriteOctet(priority);
        if (CorrelationId is not null) writer.WriteShortStr(CorrelationId);
        if (ReplyTo is not null) writer.WriteShortStr(ReplyTo);
        if (Expiration is not null) writer.WriteShortStr(Expiration);
        if (MessageId is not null) writer.WriteShortStr(MessageId);
        if (Timestamp is { } timestamp) writer.WriteLongLong((ulong)timestamp.UnixSeconds);
        if (Type is not null) writer.WriteShortStr(Type);
        if (UserId is not null) writer.WriteShortStr(UserId);
        if (AppId is not null) writer.WriteShortStr(AppId);
        if (ClusterId is not null) writer.WriteShortStr(ClusterId);
        return writer.Position;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[GetRequiredBufferSize()];
        WriteTo(bytes);
        return bytes;
    }
}
