using System.Buffers.Binary;
using System.Text;

namespace Gateway.Protocol.Types;

/// <summary>
/// Writes AMQP primitive domains into a span sized by the caller (every method struct computes
/// GetRequiredBufferSize() first, so writing never grows or re-checks a buffer mid-way).
/// </summary>
public ref struct WireWriter
{
    private readonly Span<byte> _span;
    private int _position;
    // Index of the octet that collects a run of bit fields, or -1 when no run is open.
    private int _bitOctetIndex;
    private int _bitCount;

    public WireWriter(Span<byte> span)
    {
        _span = span;
        _position = 0;
        _bitOctetIndex = -1;
        _bitCount = 0;
    }

    public readonly int Position => _position;

    public void WriteOctet(byte value)
    {
        EndBits();
        _span[_position++] = value;
    }

    public void WriteShort(ushort value)
    {
        EndBits();
        BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], value);
        _position += 2;
    }

    public void WriteLong(uint value)
    {
        EndBits();
        BinaryPrimitives.WriteUInt32BigEndian(_span[_position..], value);
        _position += 4;
    }

    public void WriteLongLong(ulong value)
    {
        EndBits();
        BinaryPrimitives.WriteUInt64BigEndian(_span[_position..], value);
        _position += 8;
    }

    public void WriteBit(bool value)
    {
        if (_bitOctetIndex < 0 || _bitCount == 8)
        {
            _bitOctetIndex = _position;
            _span[_position++] = 0;
            _bitCount = 0;
        }

        if (value)
        {
            _span[_bitOctetIndex] |= (byte)(1 << _bitCount);
        }

        _bitCount++;
    }

    public void WriteShortStr(string value)
    {
        EndBits();
        var length = Encoding.UTF8.GetBytes(value, _span[(_position + 1)..]);
        if (length > 255)
        {
            ThrowHelper.ThrowShortStringTooLong(length);
        }

        _span[_position] = (byte)length;
        _position += 1 + length;
    }

    public void WriteShortStr(ReadOnlySpan<byte> value)
    {
        if (value.Length > 255)
        {
            ThrowHelper.ThrowShortStringTooLong(value.Length);
        }

        WriteOctet((byte)value.Length);
        WriteBytes(value);
    }

    public void WriteLongStr(string value)
    {
        EndBits();
        var length = Encoding.UTF8.GetBytes(value, _span[(_position + 4)..]);
        BinaryPrimitives.WriteUInt32BigEndian(_span[_position..], (uint)length);
        _position += 4 + length;
    }

    public void WriteLongStr(ReadOnlySpan<byte> value)
    {
        WriteLong((uint)value.Length);
        WriteBytes(value);
    }

    public void WriteTable(FieldTable? table)
    {
        EndBits();
        var start = _position;
        _position += 4;
        if (table is not null)
        {
            _position += FieldTableCodec.WriteTableBody(table, _span[_position..]);
        }

        BinaryPrimitives.WriteUInt32BigEndian(_span[start..], (uint)(_position - start - 4));
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        EndBits();
        value.CopyTo(_span[_position..]);
        _position += value.Length;
    }

    private void EndBits()
    {
        _bitOctetIndex = -1;
        _bitCount = 0;
    }

    /// <summary>Encoded size of a shortstr (length octet + UTF-8 bytes).</summary>
    public static int ShortStrSize(string value) => 1 + Encoding.UTF8.GetByteCount(value);

    /// <summary>Encoded size of a longstr (4-byte length + UTF-8 bytes).</summary>
    public static int LongStrSize(string value) => 4 + Encoding.UTF8.GetByteCount(value);

    /// <summary>Encoded size of a field table including its 4-byte length prefix.</summary>
    public static int TableSize(FieldTable? table) => 4 + (table is null ? 0 : FieldTableCodec.GetTableBodySize(table));
}
