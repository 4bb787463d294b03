using System.Buffers.Binary;
using System.Text;
using CsCheck;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Support;

/// <summary>
/// CsCheck generators: field values as the codec's CLR types (for decode(encode(x)) == x), and raw wire bytes
/// built here octet by octet, independent of the codec (for encode(decode(bytes)) == bytes).
/// </summary>
internal static class WireGen
{
    /// <summary>Strings whose UTF-8 fits a shortstr: printable ASCII plus BMP text, no lone surrogates.</summary>
    public static readonly Gen<string> ShortStr =
        Gen.OneOf(Gen.Char[' ', '~'], Gen.Char['\u00a0', '\u07ff'], Gen.Char['\u0800', '\ud7ff'])
            .Array[0, 40]
            .Select(chars => new string(chars));

    public static readonly Gen<byte[]> Bytes = Gen.Byte.Array[0, 24];

    public static readonly Gen<object?> Leaf = Gen.OneOf(
        Gen.Bool.Select(v => (object?)v),
        Gen.SByte.Select(v => (object?)v),
        Gen.Byte.Select(v => (object?)v),
        Gen.Short.Select(v => (object?)v),
        Gen.UShort.Select(v => (object?)v),
        Gen.Int.Select(v => (object?)v),
        Gen.UInt.Select(v => (object?)v),
        Gen.Long.Select(v => (object?)v),
        // Floats from raw bits, so NaN payloads, infinities and -0 are all exercised.
        Gen.Int.Select(bits => (object?)BitConverter.Int32BitsToSingle(bits)),
        Gen.Long.Select(bits => (object?)BitConverter.Int64BitsToDouble(bits)),
        Gen.Select(Gen.Byte, Gen.Int, (scale, value) => (object?)new AmqpDecimal(scale, value)),
        Bytes.Select(v => (object?)v),
        Gen.Long.Select(v => (object?)new AmqpTimestamp(v)),
        Gen.Bool.Select(_ => (object?)null),
        Bytes.Select(v => (object?)new AmqpBinary(v)));

    public static Gen<object?> Value(int depth) =>
        depth == 0
            ? Leaf
            : Gen.Frequency(
                (6, (IGen<object?>)Leaf),
                (1, Table(depth - 1).Select(t => (object?)t)),
                (1, Value(depth - 1).List[0, 4].Select(l => (object?)l)));

    public static Gen<FieldTable> Table(int depth) =>
        Gen.Select(ShortStr, Value(depth))
            .List[0, 6]
            .Select(entries => new FieldTable(entries.Select(e => new KeyValuePair<string, object?>(e.Item1, e.Item2))));

    // ---- raw wire bytes ----

    public static Gen<byte[]> WireTableBody(int depth) =>
        Gen.Select(ShortStr, WireValue(depth), (key, value) => Concat(ShortStrBytes(key), value))
            .Array[0, 6]
            .Select(Concat);

    public static Gen<byte[]> WireTable(int depth) => WireTableBody(depth).Select(LongStrBytes);

    public static Gen<byte[]> WireValue(int depth)
    {
        var leaves = new List<(int, IGen<byte[]>)>
        {
            (1, Gen.Bool.Select(b => new[] { (byte)'t', b ? (byte)1 : (byte)0 })),
            (1, Fixed('b', 1)),
            (1, Fixed('B', 1)),
            (1, Fixed('s', 2)),
            (1, Fixed('u', 2)),
            (1, Fixed('I', 4)),
            (1, Fixed('i', 4)),
            (1, Fixed('l', 8)),
            (1, Fixed('f', 4)),
            (1, Fixed('d', 8)),
            (1, Fixed('D', 5)),
            (1, Fixed('T', 8)),
            (1, Gen.Const(new[] { (byte)'V' })),
            (1, Bytes.Select(b => Concat([(byte)'S'], LongStrBytes(b)))),
            (1, Bytes.Select(b => Concat([(byte)'x'], LongStrBytes(b)))),
        };
        if (depth > 0)
        {
            leaves.Add((1, WireTable(depth - 1).Select(t => Concat([(byte)'F'], t))));
            leaves.Add((1, WireValue(depth - 1).Array[0, 4].Select(items => Concat([(byte)'A'], LongStrBytes(Concat(items))))));
        }

        return Gen.Frequency([.. leaves]);
    }

    private static Gen<byte[]> Fixed(char letter, int size) =>
        Gen.Byte.Array[size].Select(payload => Concat([(byte)letter], payload));

    public static byte[] ShortStrBytes(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return Concat([(byte)utf8.Length], utf8);
    }

    public static byte[] LongStrBytes(byte[] value)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)value.Length);
        return Concat(prefix, value);
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
