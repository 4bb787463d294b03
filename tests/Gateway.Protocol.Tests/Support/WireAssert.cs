using System.Collections;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Support;

/// <summary>
/// Structural equality for decoded AMQP values: FieldTable has reference equality, byte[] and lists compare by
/// content, and floats compare by bit pattern (so NaN payloads that must survive a round trip are checked too).
/// </summary>
internal static class WireAssert
{
    public static void BytesEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        // Hex strings give a readable diff when a frame is off by a byte.
        Assert.Equal(Hex.Format(expected), Hex.Format(actual));
    }

    public static void TablesEqual(FieldTable? expected, FieldTable? actual)
    {
        if (!ValuesEqual(expected, actual))
        {
            Assert.Fail($"field tables differ:\nexpected {Describe(expected)}\nactual   {Describe(actual)}");
        }
    }

    public static bool ValuesEqual(object? expected, object? actual)
    {
        switch (expected)
        {
            case null:
                return actual is null;
            case FieldTable et:
                if (actual is not FieldTable at || et.Count != at.Count)
                {
                    return false;
                }

                for (var i = 0; i < et.Count; i++)
                {
                    if (et[i].Key != at[i].Key || !ValuesEqual(et[i].Value, at[i].Value))
                    {
                        return false;
                    }
                }

                return true;
            case byte[] eb:
                return actual is byte[] ab && eb.AsSpan().SequenceEqual(ab);
            case float ef:
                return actual is float af && BitConverter.SingleToInt32Bits(ef) == BitConverter.SingleToInt32Bits(af);
            case double ed:
                return actual is double ad && BitConverter.DoubleToInt64Bits(ed) == BitConverter.DoubleToInt64Bits(ad);
            case IList el:
                if (actual is not IList al || el.Count != al.Count)
                {
                    return false;
                }

                for (var i = 0; i < el.Count; i++)
                {
                    if (!ValuesEqual(el[i], al[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                // Same CLR type too: 'I' (int) and 'i' (uint) 7 are different wire values.
                return actual is not null && expected.GetType() == actual.GetType() && expected.Equals(actual);
        }
    }

    public static string Describe(object? value) => value switch
    {
        null => "null",
        FieldTable t => "{" + string.Join(", ", t.Select(e => $"{e.Key}: {Describe(e.Value)}")) + "}",
        byte[] b => $"S[{Hex.Format(b)}]",
        AmqpBinary x => $"x[{Hex.Format(x.Bytes)}]",
        IList l => "[" + string.Join(", ", l.Cast<object?>().Select(Describe)) + "]",
        _ => $"{value.GetType().Name}({value})",
    };
}
