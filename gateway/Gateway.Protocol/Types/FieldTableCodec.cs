using System.Text;

namespace Gateway.Protocol.Types;

/// <summary>
/// Field table and field array encoding with the type letters RabbitMQ and Qpid use, which differ
/// from the 0-9-1 spec text (RabbitMQ's "AMQP 0-9-1 errata"):
/// <code>
/// t bool     b sbyte    B byte     s short    u ushort   I int      i uint
/// l long     f float    d double   D AmqpDecimal         S byte[] (longstr)
/// A IReadOnlyList&lt;object?&gt;  T AmqpTimestamp  F FieldTable  V null  x AmqpBinary
/// </code>
/// Writing also accepts string (as 'S') and decimal (as 'D') for convenience.
/// </summary>
public static class FieldTableCodec
{
    /// <summary>Nesting deeper than this is refused, so a hostile frame cannot exhaust the stack.</summary>
    public const int MaxNestingDepth = 64;

    public static FieldTable ReadTableBody(ReadOnlySpan<byte> body) => ReadTableBody(body, 0);

    private static FieldTable ReadTableBody(ReadOnlySpan<byte> body, int depth)
    {
        if (depth > MaxNestingDepth)
        {
            ThrowHelper.ThrowMalformed("field table nesting too deep");
        }

        var table = new FieldTable();
        var reader = new WireReader(body);
        while (!reader.IsAtEnd)
        {
            var key = reader.ReadShortStr();
            table.Add(key, ReadValue(ref reader, depth));
        }

        return table;
    }

    private static List<object?> ReadArrayBody(ReadOnlySpan<byte> body, int depth)
    {
        if (depth > MaxNestingDepth)
        {
            ThrowHelper.ThrowMalformed("field array nesting too deep");
        }

        var list = new List<object?>();
        var reader = new WireReader(body);
        while (!reader.IsAtEnd)
        {
            list.Add(ReadValue(ref reader, depth));
        }

        return list;
    }

    private static object? ReadValue(ref WireReader reader, int depth)
    {
        var type = reader.ReadOctet();
        switch (type)
        {
            case (byte)'t': return reader.ReadOctet() != 0;
            case (byte)'b': return (sbyte)reader.ReadOctet();
            case (byte)'B': return reader.ReadOctet();
            case (byte)'s': return (short)reader.ReadShort();
            case (byte)'u': return reader.ReadShort();
            case (byte)'I': return (int)reader.ReadLong();
            case (byte)'i': return reader.ReadLong();
            case (byte)'l': return (long)reader.ReadLongLong();
            case (byte)'f': return BitConverter.Int32BitsToSingle((int)reader.ReadLong());
            case (byte)'d': return BitConverter.Int64BitsToDouble((long)reader.ReadLongLong());
            case (byte)'D':
                var scale = reader.ReadOctet();
                return new AmqpDecimal(scale, (int)reader.ReadLong());
            case (byte)'S': return reader.ReadLongStrBytes().ToArray();
            case (byte)'A': return ReadArrayBody(reader.ReadLongStrBytes(), depth + 1);
            case (byte)'T': return new AmqpTimestamp((long)reader.ReadLongLong());
            case (byte)'F': return ReadTableBody(reader.ReadLongStrBytes(), depth + 1);
            case (byte)'V': return null;
            case (byte)'x': return new AmqpBinary(reader.ReadLongStrBytes().ToArray());
            default:
                ThrowHelper.ThrowUnknownFieldType(type);
                return null;
        }
    }

    public static int GetTableBodySize(FieldTable table)
    {
        var size = 0;
        foreach (var (key, value) in table)
        {
            size += WireWriter.ShortStrSize(key) + GetValueSize(value);
        }

        return size;
    }

    private static int GetArrayBodySize(IEnumerable<object?> array)
    {
        var size = 0;
        foreach (var value in array)
        {
            size += GetValueSize(value);
        }

        return size;
    }

    /// <summary>Type octet plus encoded value.</summary>
    public static int GetValueSize(object? value) => 1 + value switch
    {
        null => 0,
        bool or sbyte or byte => 1,
        short or ushort => 2,
        int or uint or float => 4,
        long or double or AmqpTimestamp => 8,
        AmqpDecimal or decimal => 5,
        string s => 4 + Encoding.UTF8.GetByteCount(s),
        byte[] b => 4 + b.Length,
        AmqpBinary x => 4 + x.Bytes.Length,
        FieldTable t => 4 + GetTableBodySize(t),
        IEnumerable<object?> a => 4 + GetArrayBodySize(a),
        _ => Unsupported(value),
    };

    private static int Unsupported(object? value)
    {
        ThrowHelper.ThrowUnsupportedValue(value);
        return 0;
    }

    /// <summary>Writes the table's entries (not its length prefix); returns the bytes written.</summary>
    public static int WriteTableBody(FieldTable table, Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        foreach (var (key, value) in table)
        {
            writer.WriteShortStr(key);
            WriteValue(ref writer, value);
        }

        return writer.Position;
    }

    private static void WriteValue(ref WireWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteOctet((byte)'V'); break;
            case bool b: writer.WriteOctet((byte)'t'); writer.WriteOctet(b ? (byte)1 : (byte)0); break;
            case sbyte sb: writer.WriteOctet((byte)'b'); writer.WriteOctet((byte)sb); break;
            case byte ub: writer.WriteOctet((byte)'B'); writer.WriteOctet(ub); break;
            case short s: writer.WriteOctet((byte)'s'); writer.WriteShort((ushort)s); break;
            case ushort us: writer.WriteOctet((byte)'u'); writer.WriteShort(us); break;
            case int i: writer.WriteOctet((byte)'I'); writer.WriteLong((uint)i); break;
            case uint ui: writer.WriteOctet((byte)'i'); writer.WriteLong(ui); break;
            case long l: writer.WriteOctet((byte)'l'); writer.WriteLongLong((ulong)l); break;
            case float f: writer.WriteOctet((byte)'f'); writer.WriteLong((uint)BitConverter.SingleToInt32Bits(f)); break;
            case double d: writer.WriteOctet((byte)'d'); writer.WriteLongLong((ulong)BitConverter.DoubleToInt64Bits(d)); break;
            case AmqpDecimal dec: writer.WriteOctet((byte)'D'); writer.WriteOctet(dec.Scale); writer.WriteLong((uint)dec.UnscaledValue); break;
            case decimal m: WriteValue(ref writer, ToAmqpDecimal(m)); break;
            case AmqpTimestamp ts: writer.WriteOctet((byte)'T'); writer.WriteLongLong((ulong)ts.UnixSeconds); break;
            case string str: writer.WriteOctet((byte)'S'); writer.WriteLongStr(str); break;
            case byte[] bytes: writer.WriteOctet((byte)'S'); writer.WriteLongStr(bytes); break;
            case AmqpBinary bin: writer.WriteOctet((byte)'x'); writer.WriteLongStr(bin.Bytes); break;
            case FieldTable table: writer.WriteOctet((byte)'F'); writer.WriteTable(table); break;
            case IEnumerable<object?> array:
                writer.WriteOctet((byte)'A');
                var size = GetArrayBodySize(array);
                writer.WriteLong((uint)size);
                foreach (var item in array)
                {
                    WriteValue(ref writer, item);
                }

                break;
            default: ThrowHelper.ThrowUnsupportedValue(value); break;
        }
    }

    private static AmqpDecimal ToAmqpDecimal(decimal value)
    {
        var bits = decimal.GetBits(value);
        var scale = (byte)((bits[3] >> 16) & 0xFF);
        if (bits[1] != 0 || bits[2] != 0 || bits[0] < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "an AMQP decimal holds a 32-bit unscaled value");
        }

        var unscaled = bits[3] < 0 ? -bits[0] : bits[0];
        return new AmqpDecimal(scale, unscaled);
    }

    /// <summary>Encodes a whole table, length prefix included, into a new array.</summary>
    public static byte[] Encode(FieldTable? table)
    {
        var bytes = new byte[WireWriter.TableSize(table)];
        var writer = new WireWriter(bytes);
        writer.WriteTable(table);
        return bytes;
    }

    /// <summary>Decodes a whole table, length prefix included.</summary>
    public static FieldTable Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        var table = reader.ReadTable();
        if (!reader.IsAtEnd)
        {
            ThrowHelper.ThrowMalformed("trailing bytes after field table");
        }

        return table;
    }
}
