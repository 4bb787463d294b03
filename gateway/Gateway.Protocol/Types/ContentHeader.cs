using System.Buffers.Binary;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Types;

/// <summary>
/// A content header frame's payload (spec §4.2.6.1):
/// <code>
/// 0        2        4                12
/// +--------+--------+----------------+-----------------------------+
/// | class  | weight |   body size    | property flags + properties |
/// +--------+--------+----------------+-----------------------------+
/// </code>
/// The properties stay raw (<see cref="PropertyBytes"/>) so the gateway stores and forwards them
/// byte for byte; decode them with <see cref="BasicProperties.Read"/> only when a property matters.
/// </summary>
public readonly ref struct ContentHeader
{
    public const int FixedSize = 12;

    public ContentHeader(ushort classId, ulong bodySize, ReadOnlySpan<byte> propertyBytes)
    {
        ClassId = classId;
        BodySize = bodySize;
        PropertyBytes = propertyBytes;
    }

    public ushort ClassId { get; }

    public ulong BodySize { get; }

    public ReadOnlySpan<byte> PropertyBytes { get; }

    public static ContentHeader Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FixedSize + 2)
        {
            ThrowHelper.ThrowTruncated("content header");
        }

        var classId = BinaryPrimitives.ReadUInt16BigEndian(payload);
        // weight (payload[2..4]) is unused and must be zero; RabbitMQ ignores it, so do we.
        var bodySize = BinaryPrimitives.ReadUInt64BigEndian(payload[4..]);
        return new ContentHeader(classId, bodySize, payload[FixedSize..]);
    }

    public int GetRequiredBufferSize() => FixedSize + PropertyBytes.Length;

    public int WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, ClassId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..], BodySize);
        PropertyBytes.CopyTo(destination[FixedSize..]);
        return FixedSize + PropertyBytes.Length;
    }

    /// <summary>The header basic.publish/deliver use: class 60.</summary>
    public static ContentHeader ForBasic(ulong bodySize, ReadOnlySpan<byte> propertyBytes) =>
        new(AmqpClassId.Basic, bodySize, propertyBytes);
}
