using System.Buffers;
using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Fuzz.Tests;

/// <summary>The mutations <see cref="FrameMutator.Apply"/> knows.</summary>
public enum Mutation
{
    // Byte-level: meaningful for any byte string (whole frames, payloads, tables).
    FlipBit,
    SetRandomByte,
    SetInterestingByte,
    SetInterestingShort,
    SetInterestingLong,
    Truncate,
    Extend,
    InsertBytes,
    DeleteRange,
    DuplicateRange,
    CopyRange,

    // Frame envelope: assume a 7-octet frame header and a trailing frame-end octet.
    ChangeFrameType,
    ChangeChannel,
    ChangeSizeField,
    ChangeFrameEnd,
}

/// <summary>
/// Seeded generator of valid, near-valid and garbage AMQP 0-9-1 input. Everything is driven by the
/// <see cref="Random"/> passed in, so a seed reproduces a run byte for byte. Reusable by any fuzz
/// test: the codec fuzz here, and later the server's connection state machine, which wants whole
/// frame streams (<see cref="HandshakeFrames"/>, <see cref="MutateSequence"/>).
/// </summary>
public static class FrameMutator
{
    public static IReadOnlyList<Mutation> ByteMutations { get; } =
        [.. Enum.GetValues<Mutation>().Where(m => m < Mutation.ChangeFrameType)];

    public static IReadOnlyList<Mutation> AllMutations { get; } = Enum.GetValues<Mutation>();

    /// <summary>Known method ids, for frames that should get past the id lookup.</summary>
    public static IReadOnlyList<AmqpMethodId> KnownMethodIds { get; } = Enum.GetValues<AmqpMethodId>();

    private static readonly byte[] InterestingBytes =
        [0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x0A, 0x14, 0x28, 0x32, 0x3C, 0x55, 0x5A, 0x7F, 0x80, 0xCE, 0xFE, 0xFF,
         (byte)'t', (byte)'b', (byte)'B', (byte)'s', (byte)'u', (byte)'I', (byte)'i', (byte)'l', (byte)'f', (byte)'d',
         (byte)'D', (byte)'S', (byte)'A', (byte)'T', (byte)'F', (byte)'V', (byte)'x'];

    private static readonly ushort[] InterestingShorts = [0, 1, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0xFFFF, 10, 20, 50, 60, 85, 90];

    private static readonly uint[] InterestingLongs =
        [0, 1, 2, 3, 4, 7, 8, 0xFF, 0x100, 0xFFFF, 0x10000, 4096, 4097, 131072, 131073, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    private static readonly byte[] FieldTypeLetters = "tbBsuIilfdDSATFVx"u8.ToArray();

    private static readonly Lazy<IReadOnlyList<byte[]>> LazySampleFrames = new(BuildSampleFrames);

    /// <summary>
    /// Valid frames written by <see cref="FrameWriter"/>: one or more per method struct (the
    /// Connection, Channel and Queue ones built by hand; any other method struct built from sample
    /// constructor arguments), content header + body frames, and a heartbeat.
    /// </summary>
    public static IReadOnlyList<byte[]> SampleFrames => LazySampleFrames.Value;

    /// <summary>Whole field tables (length prefix included), valid.</summary>
    public static IReadOnlyList<byte[]> SampleTables { get; } =
        [FieldTableCodec.Encode(ClientProperties()), FieldTableCodec.Encode(MessageHeaders()), FieldTableCodec.Encode(QueueArguments()),
         FieldTableCodec.Encode(new FieldTable())];

    /// <summary>Basic property lists (flags + properties, as in a content header after body-size), valid.</summary>
    public static IReadOnlyList<byte[]> SamplePropertyBytes { get; } =
        [BasicProperties.Empty.ToBytes(), FullProperties().ToBytes(), new BasicProperties { DeliveryMode = 2, ContentType = "text/plain" }.ToBytes()];

    /// <summary>What a client sends to open a connection and a channel, frame by frame (protocol header first).</summary>
    public static IReadOnlyList<byte[]> HandshakeFrames()
    {
        var frames = new List<byte[]> { AmqpConstants.ProtocolHeader.ToArray() };
        frames.Add(MethodFrame(0, new ConnectionStartOk(ClientProperties(), "PLAIN", "\0guest\0guest"u8.ToArray(), "en_US")));
        frames.Add(MethodFrame(0, new ConnectionTuneOk(2047, 131072, 60)));
        frames.Add(MethodFrame(0, new ConnectionOpen("/")));
        frames.Add(MethodFrame(1, default(ChannelOpen)));
        return frames;
    }

    /// <summary>A method frame as <see cref="FrameWriter.WriteMethod{TMethod}"/> writes it.</summary>
    public static byte[] MethodFrame<TMethod>(ushort channel, in TMethod method)
        where TMethod : struct, IAmqpMethod<TMethod>
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMethod(output, channel, method);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A frame with a correct envelope around any payload.</summary>
    public static byte[] Frame(byte type, ushort channel, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[AmqpConstants.FrameOverhead + payload.Length];
        frame[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), channel);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(3), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(AmqpConstants.FrameHeaderSize));
        frame[^1] = AmqpConstants.FrameEnd;
        return frame;
    }

    /// <summary>The payload of a well-formed frame (whatever its size field says, the bytes between header and end).</summary>
    public static ReadOnlySpan<byte> PayloadOf(byte[] frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Length < AmqpConstants.FrameOverhead ? [] : frame.AsSpan(AmqpConstants.FrameHeaderSize, frame.Length - AmqpConstants.FrameOverhead);
    }

    /// <summary>One to <paramref name="maxMutations"/> mutations of any kind stacked on a copy of <paramref name="input"/>.</summary>
    public static byte[] Mutate(byte[] input, Random random, int maxMutations = 3)
    {
        ArgumentNullException.ThrowIfNull(random);
        var result = input;
        var count = random.Next(1, maxMutations + 1);
        for (var i = 0; i < count; i++)
        {
            result = Apply(result, AllMutations[random.Next(AllMutations.Count)], random);
        }

        return result;
    }

    /// <summary>Byte-level mutations only (for tables, property lists, arguments).</summary>
    public static byte[] MutateBytes(byte[] input, Random random, int maxMutations = 3)
    {
        ArgumentNullException.ThrowIfNull(random);
        var result = input;
        var count = random.Next(1, maxMutations + 1);
        for (var i = 0; i < count; i++)
        {
            result = Apply(result, ByteMutations[random.Next(ByteMutations.Count)], random);
        }

        return result;
    }

    /// <summary>
    /// Mutates only the payload of a frame and re-seals the envelope (size and frame-end correct),
    /// so the damage reaches the method, header or table decoders rather than stopping at the
    /// frame reader. For a method frame the class and method ids are kept most of the time.
    /// </summary>
    public static byte[] MutatePayload(byte[] frame, Random random, int maxMutations = 3)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(random);
        var payload = PayloadOf(frame).ToArray();
        var type = frame.Length > 0 ? frame[0] : (byte)FrameType.Method;
        var channel = frame.Length >= 3 ? BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(1)) : (ushort)0;
        if (type == (byte)FrameType.Method && payload.Length >= 4 && random.Next(8) != 0)
        {
            var arguments = MutateBytes(payload[4..], random, maxMutations);
            return Frame(type, channel, [.. payload.AsSpan(0, 4), .. arguments]);
        }

        return Frame(type, channel, MutateBytes(payload, random, maxMutations));
    }

    /// <summary>Applies one mutation to a copy of <paramref name="input"/> (the input is never changed).</summary>
    public static byte[] Apply(byte[] input, Mutation mutation, Random random)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(random);
        var data = (byte[])input.Clone();
        switch (mutation)
        {
            case Mutation.FlipBit when data.Length > 0:
                data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                return data;
            case Mutation.SetRandomByte when data.Length > 0:
                data[random.Next(data.Length)] = (byte)random.Next(256);
                return data;
            case Mutation.SetInterestingByte when data.Length > 0:
                data[random.Next(data.Length)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                return data;
            case Mutation.SetInterestingShort when data.Length >= 2:
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(random.Next(data.Length - 1)), InterestingShorts[random.Next(InterestingShorts.Length)]);
                return data;
            case Mutation.SetInterestingLong when data.Length >= 4:
                BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(random.Next(data.Length - 3)), InterestingLong(random, data.Length));
                return data;
            case Mutation.Truncate when data.Length > 0:
                return data[..random.Next(data.Length)];
            case Mutation.Extend:
                return [.. data, .. RandomBytes(random, 1, 16)];
            case Mutation.InsertBytes:
            {
                var at = random.Next(data.Length + 1);
                return [.. data.AsSpan(0, at), .. RandomBytes(random, 1, 8), .. data.AsSpan(at)];
            }

            case Mutation.DeleteRange when data.Length > 0:
            {
                var at = random.Next(data.Length);
                var count = random.Next(1, Math.Min(16, data.Length - at) + 1);
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + count)];
            }

            case Mutation.DuplicateRange when data.Length > 0:
            {
                var at = random.Next(data.Length);
                var count = random.Next(1, Math.Min(32, data.Length - at) + 1);
                return [.. data.AsSpan(0, at + count), .. data.AsSpan(at, count), .. data.AsSpan(at + count)];
            }

            case Mutation.CopyRange when data.Length > 1:
            {
                var from = random.Next(data.Length);
                var to = random.Next(data.Length);
                var count = random.Next(1, Math.Min(Math.Min(16, data.Length - from), data.Length - to) + 1);
                data.AsSpan(from, count).CopyTo(data.AsSpan(to));
                return data;
            }

            case Mutation.ChangeFrameType when data.Length > 0:
                data[0] = random.Next(4) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)FrameType.Heartbeat,
                    2 => (byte)(random.Next(1, 4)),
                    _ => InterestingBytes[random.Next(InterestingBytes.Length)],
                };
                return data;
            case Mutation.ChangeChannel when data.Length >= 3:
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(1), random.Next(3) == 0 ? (ushort)random.Next(65536) : InterestingShorts[random.Next(InterestingShorts.Length)]);
                return data;
            case Mutation.ChangeSizeField when data.Length >= 7:
            {
                var actual = data.Length - AmqpConstants.FrameOverhead;
                var size = random.Next(4) switch
                {
                    0 => (uint)Math.Max(0, actual + random.Next(-3, 4)),
                    1 => (uint)random.Next(0, Math.Max(1, data.Length * 2)),
                    _ => InterestingLong(random, actual),
                };
                BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(3), size);
                return data;
            }

            case Mutation.ChangeFrameEnd when data.Length > 0:
                data[^1] = random.Next(3) == 0 ? (byte)0xCF : (byte)random.Next(256);
                return data;
            default:
                // Not applicable to an input this short: grow it instead, so something changes.
                return [.. data, .. RandomBytes(random, 1, 8)];
        }
    }

    /// <summary>
    /// A mutated frame stream, for protocol-level fuzzing: frames dropped, duplicated, swapped,
    /// mutated (envelope or payload), or garbage inserted between them.
    /// </summary>
    public static List<byte[]> MutateSequence(IReadOnlyList<byte[]> frames, Random random, int maxMutations = 3)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(random);
        var result = frames.ToList();
        var count = random.Next(1, maxMutations + 1);
        for (var i = 0; i < count; i++)
        {
            var at = result.Count == 0 ? 0 : random.Next(result.Count);
            switch (random.Next(7))
            {
                case 0 when result.Count > 0:
                    result.RemoveAt(at);
                    break;
                case 1 when result.Count > 0:
                    result.Insert(at, result[at]);
                    break;
                case 2 when result.Count > 1:
                    var other = random.Next(result.Count);
                    (result[at], result[other]) = (result[other], result[at]);
                    break;
                case 3 when result.Count > 0:
                    result[at] = Mutate(result[at], random);
                    break;
                case 4 when result.Count > 0:
                    result[at] = MutatePayload(result[at], random);
                    break;
                case 5:
                    result.Insert(at, SampleFrames[random.Next(SampleFrames.Count)]);
                    break;
                default:
                    result.Insert(at, random.Next(2) == 0 ? RandomMethodFrame(random) : RandomBytes(random, 1, 24));
                    break;
            }
        }

        return result;
    }

    public static byte[] RandomBytes(Random random, int minLength, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new byte[random.Next(minLength, maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Random bytes that sometimes start like a frame (a valid type octet and a small size).</summary>
    public static byte[] RandomGarbage(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = RandomBytes(random, 0, random.Next(4) == 0 ? 512 : 48);
        if (bytes.Length >= 7 && random.Next(2) == 0)
        {
            bytes[0] = (byte)random.Next(1, 4);
            bytes[3] = 0;
            bytes[4] = 0;
            if (random.Next(2) == 0)
            {
                bytes[5] = 0;
            }
        }

        return bytes;
    }

    /// <summary>A method frame with a correct envelope, a (mostly known) method id and random arguments built from AMQP field encodings.</summary>
    public static byte[] RandomMethodFrame(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var id = random.Next(10) switch
        {
            0 => (AmqpMethodId)(uint)random.Next(),
            1 => AmqpMethodIds.Create((ushort)random.Next(100), (ushort)random.Next(130)),
            _ => KnownMethodIds[random.Next(KnownMethodIds.Count)],
        };
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)id);
        var channel = random.Next(3) == 0 ? (ushort)0 : (ushort)random.Next(1, 5);
        return Frame((byte)FrameType.Method, channel, [.. payload, .. RandomArguments(random)]);
    }

    /// <summary>A random run of AMQP field encodings: octets, shorts, longs, bit octets, shortstrs, longstrs, tables.</summary>
    public static byte[] RandomArguments(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var output = new List<byte>();
        var fields = random.Next(0, 9);
        for (var i = 0; i < fields; i++)
        {
            switch (random.Next(9))
            {
                case 0: output.Add((byte)random.Next(256)); break;
                case 1: AddBigEndian(output, (ushort)random.Next(65536), 2); break;
                case 2: AddBigEndian(output, (uint)random.Next(), 4); break;
                case 3: AddBigEndian(output, (ulong)random.NextInt64(), 8); break;
                case 4: output.Add((byte)random.Next(32)); break; // a run of bits
                case 5: output.AddRange(RandomShortStr(random)); break;
                case 6: output.AddRange(RandomLongStr(random)); break;
                case 7: output.AddRange(RandomTable(random, 0)); break;
                default: output.AddRange(InterestingLengthPrefix(random)); break;
            }
        }

        var bytes = output.ToArray();
        return random.Next(5) == 0 ? MutateBytes(bytes, random) : bytes;
    }

    /// <summary>A field table (length prefix included), structurally valid most of the time, with nested tables and arrays.</summary>
    public static byte[] RandomTable(Random random, int depth)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (depth == 0 && random.Next(50) == 0)
        {
            return NestedTable(random.Next(2) == 0 ? 'A' : 'F', random.Next(3) == 0 ? random.Next(1, 3000) : random.Next(55, 75));
        }

        var body = new List<byte>();
        var entries = random.Next(0, depth == 0 ? 8 : 4);
        for (var i = 0; i < entries; i++)
        {
            body.AddRange(RandomShortStr(random));
            body.AddRange(RandomFieldValue(random, depth));
        }

        var result = new List<byte>();
        AddBigEndian(result, (uint)body.Count, 4);
        result.AddRange(body);
        return [.. result];
    }

    /// <summary>
    /// A table whose single value nests <paramref name="depth"/> levels of arrays ('A') or tables
    /// ('F'): the input that finds unbounded recursion in a decoder.
    /// </summary>
    public static byte[] NestedTable(char kind, int depth)
    {
        if (kind is not ('A' or 'F'))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), "A or F");
        }

        // Written outside in; every level's length is known up front, so this is linear in depth.
        var levelSize = kind == 'A' ? 5 : 7; // 'A' + length, or key "k" + 'F' + length
        var outerBodySize = (kind == 'A' ? 2 : 0) + (levelSize * depth);
        var table = new byte[4 + outerBodySize];
        BinaryPrimitives.WriteUInt32BigEndian(table, (uint)outerBodySize);
        var position = 4;
        if (kind == 'A')
        {
            // The outer table holds one entry "k" whose value is the chain of arrays.
            table[position++] = 1;
            table[position++] = (byte)'k';
        }

        for (var level = 0; level < depth; level++)
        {
            if (kind == 'F')
            {
                table[position++] = 1;
                table[position++] = (byte)'k';
            }

            table[position++] = (byte)kind;
            BinaryPrimitives.WriteUInt32BigEndian(table.AsSpan(position), (uint)(levelSize * (depth - level - 1)));
            position += 4;
        }

        return table;
    }

    /// <summary>A content header frame: class, weight, body size, then property flags and values that mostly match the flags.</summary>
    public static byte[] RandomContentHeaderFrame(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        byte[] properties;
        if (random.Next(3) == 0)
        {
            properties = MutateBytes(SamplePropertyBytes[random.Next(SamplePropertyBytes.Count)], random);
        }
        else
        {
            var flags = (ushort)random.Next(65536);
            var output = new List<byte>();
            AddBigEndian(output, flags, 2);
            if ((flags & 1) != 0)
            {
                // Continuation flag words; the last one must clear bit 0 or the reader runs off the end.
                var more = random.Next(1, 4);
                for (var i = 0; i < more; i++)
                {
                    AddBigEndian(output, (ushort)(random.Next(65536) & (i == more - 1 && random.Next(4) != 0 ? 0xFFFE : 0xFFFF)), 2);
                }
            }

            for (var bit = 15; bit >= 2; bit--)
            {
                if ((flags & (1 << bit)) == 0)
                {
                    continue;
                }

                switch (bit)
                {
                    case 13: output.AddRange(RandomTable(random, 0)); break;
                    case 12 or 11: output.Add((byte)random.Next(256)); break;
                    case 6: AddBigEndian(output, (ulong)random.NextInt64(), 8); break;
                    default: output.AddRange(RandomShortStr(random)); break;
                }
            }

            properties = [.. output];
            if (random.Next(6) == 0)
            {
                properties = MutateBytes(properties, random);
            }
        }

        var header = new byte[ContentHeader.FixedSize];
        BinaryPrimitives.WriteUInt16BigEndian(header, random.Next(8) == 0 ? (ushort)random.Next(65536) : AmqpClassId.Basic);
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(4), random.Next(4) == 0 ? (ulong)random.NextInt64() : (ulong)random.Next(4096));
        var channel = (ushort)random.Next(0, 4);
        return Frame((byte)FrameType.Header, channel, [.. header, .. properties]);
    }

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    private static uint InterestingLong(Random random, int nearLength) =>
        random.Next(4) == 0 ? (uint)Math.Max(0, nearLength + random.Next(-2, 3)) : InterestingLongs[random.Next(InterestingLongs.Length)];

    private static byte[] InterestingLengthPrefix(Random random)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, InterestingLongs[random.Next(InterestingLongs.Length)]);
        return random.Next(2) == 0 ? [(byte)random.Next(256)] : bytes;
    }

    private static byte[] RandomShortStr(Random random)
    {
        var length = random.Next(8) == 0 ? random.Next(256) : random.Next(12);
        var bytes = new byte[1 + length];
        bytes[0] = (byte)length;
        if (random.Next(4) == 0)
        {
            random.NextBytes(bytes.AsSpan(1)); // invalid UTF-8 as often as not
        }
        else
        {
            for (var i = 1; i < bytes.Length; i++)
            {
                bytes[i] = (byte)random.Next('a', 'z' + 1);
            }
        }

        if (random.Next(16) == 0)
        {
            bytes[0] = (byte)random.Next(256); // length disagrees with the bytes
        }

        return bytes;
    }

    private static byte[] RandomLongStr(Random random)
    {
        var length = random.Next(6) == 0 ? random.Next(600) : random.Next(16);
        var bytes = new byte[4 + length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, random.Next(16) == 0 ? InterestingLongs[random.Next(InterestingLongs.Length)] : (uint)length);
        random.NextBytes(bytes.AsSpan(4));
        return bytes;
    }

    private static byte[] RandomFieldValue(Random random, int depth)
    {
        var type = random.Next(20) == 0 ? (byte)random.Next(256) : FieldTypeLetters[random.Next(FieldTypeLetters.Length)];
        var output = new List<byte> { type };
        switch ((char)type)
        {
            case 't' or 'b' or 'B': output.Add((byte)random.Next(256)); break;
            case 's' or 'u': AddBigEndian(output, (ushort)random.Next(65536), 2); break;
            case 'I' or 'i' or 'f': AddBigEndian(output, (uint)random.Next(), 4); break;
            case 'l' or 'd' or 'T': AddBigEndian(output, (ulong)random.NextInt64(), 8); break;
            case 'D': output.Add((byte)random.Next(256)); AddBigEndian(output, (uint)random.Next(), 4); break;
            case 'S' or 'x': output.AddRange(RandomLongStr(random)); break;
            case 'V': break;
            case 'F':
                output.AddRange(depth < 3 ? RandomTable(random, depth + 1) : [0, 0, 0, 0]);
                break;
            case 'A':
            {
                var items = new List<byte>();
                var count = depth < 3 ? random.Next(4) : 0;
                for (var i = 0; i < count; i++)
                {
                    items.AddRange(RandomFieldValue(random, depth + 1));
                }

                AddBigEndian(output, (uint)items.Count, 4);
                output.AddRange(items);
                break;
            }

            default:
                output.AddRange(RandomBytes(random, 0, 8));
                break;
        }

        return [.. output];
    }

    private static void AddBigEndian(List<byte> output, ulong value, int size)
    {
        for (var shift = (size - 1) * 8; shift >= 0; shift -= 8)
        {
            output.Add((byte)(value >> shift));
        }
    }

    public static FieldTable ClientProperties() => new()
    {
        { "product", Encoding.UTF8.GetBytes("Gateway fuzz client") },
        { "version", Encoding.UTF8.GetBytes("7.1.2") },
        { "platform", Encoding.UTF8.GetBytes(".NET") },
        { "copyright", Encoding.UTF8.GetBytes("none") },
        { "information", Encoding.UTF8.GetBytes("seeded test input") },
        {
            "capabilities", new FieldTable
            {
                { "publisher_confirms", true },
                { "exchange_exchange_bindings", true },
                { "basic.nack", true },
                { "consumer_cancel_notify", true },
                { "connection.blocked", true },
                { "authentication_failure_close", true },
            }
        },
        { "connection_name", Encoding.UTF8.GetBytes("fuzz-connection") },
    };

    public static FieldTable MessageHeaders() => new()
    {
        { "x-dotnet-pub-seq-no", 42L },
        { "bool", false },
        { "sbyte", (sbyte)-5 },
        { "byte", (byte)200 },
        { "short", (short)-300 },
        { "ushort", (ushort)60000 },
        { "int", -70000 },
        { "uint", 4000000000u },
        { "float", 1.5f },
        { "double", -2.25 },
        { "decimal", new AmqpDecimal(2, 12345) },
        { "timestamp", new AmqpTimestamp(1700000000) },
        { "void", null },
        { "binary", new AmqpBinary([1, 2, 3]) },
        { "array", new List<object?> { 1, "two"u8.ToArray(), new FieldTable { { "three", 3L } }, new List<object?> { null } } },
        { "nested", new FieldTable { { "cc", new List<object?> { "queue-a"u8.ToArray(), "queue-b"u8.ToArray() } } } },
    };

    public static FieldTable QueueArguments() => new()
    {
        { "x-queue-type", "quorum"u8.ToArray() },
        { "x-max-length", 1000 },
        { "x-message-ttl", 60000 },
        { "x-dead-letter-exchange", "dlx"u8.ToArray() },
    };

    public static BasicProperties FullProperties() => new()
    {
        ContentType = "application/json",
        ContentEncoding = "utf-8",
        Headers = MessageHeaders(),
        DeliveryMode = 2,
        Priority = 5,
        CorrelationId = "corr-1",
        ReplyTo = "amq.rabbitmq.reply-to",
        Expiration = "60000",
        MessageId = "msg-1",
        Timestamp = new AmqpTimestamp(1700000000),
        Type = "order.created",
        UserId = "guest",
        AppId = "fuzz",
        ClusterId = "",
    };

    private static List<byte[]> BuildSampleFrames()
    {
        var frames = new List<byte[]>
        {
            MethodFrame(0, new ConnectionStart(0, 9, ClientProperties(), "PLAIN AMQPLAIN", "en_US")),
            MethodFrame(0, new ConnectionStartOk(ClientProperties(), "PLAIN", "\0guest\0guest"u8.ToArray(), "en_US")),
            MethodFrame(0, new ConnectionSecure("challenge"u8.ToArray())),
            MethodFrame(0, new ConnectionSecureOk("response"u8.ToArray())),
            MethodFrame(0, new ConnectionTune(2047, 131072, 60)),
            MethodFrame(0, new ConnectionTuneOk(2047, 131072, 60)),
            MethodFrame(0, new ConnectionOpen("/")),
            MethodFrame(0, default(ConnectionOpenOk)),
            MethodFrame(0, new ConnectionClose(320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'", 0, 0)),
            MethodFrame(0, default(ConnectionCloseOk)),
            MethodFrame(0, new ConnectionBlocked("low on memory")),
            MethodFrame(0, default(ConnectionUnblocked)),
            MethodFrame(0, new ConnectionUpdateSecret("new-token"u8.ToArray(), "token refresh")),
            MethodFrame(0, default(ConnectionUpdateSecretOk)),
            MethodFrame(1, default(ChannelOpen)),
            MethodFrame(1, default(ChannelOpenOk)),
            MethodFrame(1, new ChannelFlow(true)),
            MethodFrame(1, new ChannelFlowOk(false)),
            MethodFrame(1, new ChannelClose(406, "PRECONDITION_FAILED - inequivalent arg 'durable'", 50, 10)),
            MethodFrame(1, default(ChannelCloseOk)),
            MethodFrame(1, new QueueDeclare("orders", durable: true, arguments: QueueArguments())),
            MethodFrame(2, new QueueDeclare(string.Empty, exclusive: true, autoDelete: true, noWait: true)),
            MethodFrame(3, new QueueDeclare("passive-check", passive: true, arguments: MessageHeaders())),
        };

        // Method structs not built above (e.g. basic.*, exchange.*, added later) get sample arguments by reflection.
        var handBuilt = new HashSet<Type>(frames.Select(f => MethodCodecs.ById[(AmqpMethodId)BinaryPrimitives.ReadUInt32BigEndian(PayloadOf(f))].Type));
        foreach (var type in MethodCodecs.MethodTypes().Where(t => !handBuilt.Contains(t)))
        {
            if (TryBuildByReflection(type) is { } frame)
            {
                frames.Add(frame);
            }
        }

        // Content: a header frame and its body frames, as the server would deliver them.
        foreach (var properties in SamplePropertyBytes)
        {
            var output = new ArrayBufferWriter<byte>();
            FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, properties, new byte[300], 4096);
            frames.AddRange(SplitFrames(output.WrittenMemory));
            output.Clear();
            FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, properties, Encoding.UTF8.GetBytes(new string('b', 9000)), 4096);
            frames.AddRange(SplitFrames(output.WrittenMemory));
        }

        var heartbeat = new ArrayBufferWriter<byte>();
        FrameWriter.WriteHeartbeat(heartbeat);
        frames.Add(heartbeat.WrittenSpan.ToArray());
        return frames;
    }

    private static IEnumerable<byte[]> SplitFrames(ReadOnlyMemory<byte> stream)
    {
        var sequence = new ReadOnlySequence<byte>(stream);
        var frames = new List<byte[]>();
        var start = sequence.Start;
        while (FrameReader.TryReadFrame(ref sequence, 0, out _))
        {
            frames.Add(new ReadOnlySequence<byte>(stream).Slice(start, sequence.Start).ToArray());
            start = sequence.Start;
        }

        return frames;
    }

    private static byte[]? TryBuildByReflection(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        object method;
        try
        {
            method = constructor is null
                ? Activator.CreateInstance(type)!
                : constructor.Invoke([.. constructor.GetParameters().Select(SampleArgument)]);
            var write = typeof(FrameMutator).GetMethod(nameof(WriteBoxed), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
            return (byte[])write.Invoke(null, [method])!;
        }
        catch (TargetInvocationException)
        {
            return null; // a constructor that rejects the sample values: the random generators still cover the type
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    private static byte[] WriteBoxed<T>(object method)
        where T : struct, IAmqpMethod<T> => MethodFrame(1, (T)method);

    private static object? SampleArgument(ParameterInfo parameter)
    {
        var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        var name = parameter.Name ?? "value";
        if (type == typeof(string)) return "sample-" + name;
        if (type == typeof(bool)) return name.Length % 2 == 0;
        if (type == typeof(byte)) return (byte)2;
        if (type == typeof(ushort)) return (ushort)10;
        if (type == typeof(short)) return (short)10;
        if (type == typeof(uint)) return 100u;
        if (type == typeof(int)) return 100;
        if (type == typeof(ulong)) return 42ul;
        if (type == typeof(long)) return 42L;
        if (type == typeof(FieldTable)) return QueueArguments();
        if (type == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemory<byte>([1, 2, 3]);
        if (type == typeof(byte[])) return new byte[] { 1, 2, 3 };
        if (type == typeof(BasicProperties)) return FullProperties();
        if (type == typeof(AmqpTimestamp)) return new AmqpTimestamp(1700000000);
        if (parameter.HasDefaultValue) return parameter.DefaultValue;
        if (type.IsValueType) return Activator.CreateInstance(type);
        throw new NotSupportedException($"no sample value for {parameter.ParameterType}");
    }
}
