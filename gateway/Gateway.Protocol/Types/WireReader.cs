using System.Buffers.Binary;
using System.Text;

namespace Gateway.Protocol.Types;

/// <summary>
/// Reads AMQP primitive domains (spec §4.2.5 "Field Formats") from a method or content-header
/// payload. Big-endian throughout; a payload that ends early is a 501 FRAME_ERROR, as RabbitMQ's
/// decode_method_fields reports "cannot decode".
/// </summary>
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _span;
    private int _position;
    // Consecutive bit fields share one octet (spec §4.2.5.2); this is the octet being consumed.
    private byte _bitBuffer;
    private int _bitCount;

    public WireReader(ReadOnlySpan<byte> span)
    {
        _span = span;
        _position = 0;
        _bitBuffer = 0;
        _bitCount = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _span.Length - _position;

    public readonly bool IsAtEnd => _position == _span.Length;

    public byte ReadOctet()
    {
        ResetBits();
        if (_position >= _span.Length)
        {
            ThrowHelper.ThrowTruncated("octet");
        }

        return _span[_position++];
    }

    public ushort ReadShort()
    {
        ResetBits();
        var value = BinaryPrimitives.ReadUInt16BigEndian(Take(2, "short"));
        return value;
    }

    public uint ReadLong()
    {
        ResetBits();
        return BinaryPrimitives.ReadUInt32BigEndian(Take(4, "long"));
    }

    public ulong ReadLongLong()
    {
        ResetBits();
        return BinaryPrimitives.ReadUInt64BigEndian(Take(8, "longlong"));
    }

    /// <summary>Packed bits: the first bit of a run reads a fresh octet, least significant bit first.</summary>
    public bool ReadBit()
    {
        if (_bitCount == 0)
        {
            if (_position >= _span.Length)
            {
                ThrowHelper.ThrowTruncated("bit");
            }

            _bitBuffer = _span[_position++];
            _bitCount = 8;
        }

        var bit = (_bitBuffer & 1) != 0;
        _bitBuffer >>= 1;
        _bitCount--;
        return bit;
    }

    public ReadOnlySpan<byte> ReadShortStrBytes()
    {
        var length = ReadOctet();
        return Take(length, "shortstr");
    }

    /// <summary>
    /// A shortstr as text. Invalid UTF-8 is refused (501) rather than replaced with U+FFFD, which
    /// would silently change a name or routing key between publisher and consumer; RabbitMQ keeps
    /// shortstrs as raw bytes (see compat-suite/COMPATIBILITY.md).
    /// </summary>
    public string ReadShortStr()
    {
        var bytes = ReadShortStrBytes();
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            ThrowHelper.ThrowMalformed("shortstr is not valid UTF-8");
            return string.Empty;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public ReadOnlySpan<byte> ReadLongStrBytes()
    {
        var length = ReadLong();
        if (length > int.MaxValue)
        {
            ThrowHelper.ThrowMalformed($"longstr length {length} is out of range");
        }

        return Take((int)length, "longstr");
    }

    public string ReadLongStr()
    {
        var bytes = ReadLongStrBytes();
        return bytes.IsEmpty ? string.Empty : Encoding.UTF8.GetString(bytes);
    }

    public FieldTable ReadTable()
    {
        var bytes = ReadLongStrBytes();
        return FieldTableCodec.ReadTableBody(bytes);
    }

    /// <summary>The raw bytes (without the length prefix) of a field table, for byte-exact passthrough.</summary>
    public ReadOnlySpan<byte> ReadTableBytes() => ReadLongStrBytes();

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        ResetBits();
        return Take(count, "bytes");
    }

    public ReadOnlySpan<byte> ReadToEnd()
    {
        ResetBits();
        var rest = _span[_position..];
        _position = _span.Length;
        return rest;
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > _span.Length - _position)
        {
            ThrowHelper.ThrowTruncated(what);
        }

        var slice = _span.Slice(_position, count);
        _position += count;
        return slice;
    }

    private void ResetBits() => _bitCount = 0;
}
