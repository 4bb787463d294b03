using System.Buffers;
using System.Buffers.Binary;
using Gateway.Protocol;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Types;

namespace Gateway.Fuzz.Tests;

/// <summary>Counters a fuzz run reports at the end.</summary>
public sealed class FuzzStats
{
    public long Inputs { get; set; }
    public long SegmentedInputs { get; set; }
    public long Frames { get; set; }
    public long MethodsDecoded { get; set; }
    public long UnknownMethodIds { get; set; }
    public long HeadersDecoded { get; set; }
    public long ProtocolErrors { get; set; }
    public long NeededMoreData { get; set; }
    public long TablesDecoded { get; set; }
    public long TableInputs { get; set; }
    public long PropertyInputs { get; set; }

    /// <summary>Decoded fine but could not be written back: a shortstr that grew past 255 bytes (invalid UTF-8 → U+FFFD).</summary>
    public long NotReencodable { get; set; }

    public void Add(FuzzStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Inputs += other.Inputs;
        SegmentedInputs += other.SegmentedInputs;
        Frames += other.Frames;
        MethodsDecoded += other.MethodsDecoded;
        UnknownMethodIds += other.UnknownMethodIds;
        HeadersDecoded += other.HeadersDecoded;
        ProtocolErrors += other.ProtocolErrors;
        NeededMoreData += other.NeededMoreData;
        TablesDecoded += other.TablesDecoded;
        TableInputs += other.TableInputs;
        PropertyInputs += other.PropertyInputs;
        NotReencodable += other.NotReencodable;
    }

    public override string ToString() =>
        $"inputs {Inputs} (segmented {SegmentedInputs}), frames {Frames}, methods decoded {MethodsDecoded}, unknown method ids {UnknownMethodIds}, " +
        $"content headers decoded {HeadersDecoded}, protocol errors {ProtocolErrors}, incomplete {NeededMoreData}; " +
        $"table inputs {TableInputs} (decoded {TablesDecoded}), property inputs {PropertyInputs}; decoded but not re-encodable {NotReencodable}";
}

/// <summary>A decoder misbehaved in a way that is not a protocol error: always a test failure.</summary>
public sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message)
        : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Runs input the way the server will: frames off a (possibly segmented) buffer, each method frame
/// through its method struct's Read, each content header through ContentHeader.Read and
/// BasicProperties.Read. Only <see cref="AmqpProtocolException"/> is an acceptable failure; it is
/// caught and summarised. Anything else propagates to the caller.
/// </summary>
public static class CodecHarness
{
    /// <summary>
    /// Reads frames until the buffer needs more data or a protocol error stops the connection. The
    /// returned outcome is a fingerprint (frames seen, their bytes, how it stopped) so a segmented run
    /// can be compared with a contiguous one.
    /// </summary>
    public static string RunFrames(ReadOnlySequence<byte> buffer, uint frameMax, bool checkReencode, FuzzStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var hash = default(HashCode);
        var frames = 0;
        var inputLength = buffer.Length;
        try
        {
            while (true)
            {
                var before = buffer.Length;
                if (!FrameReader.TryReadFrame(ref buffer, frameMax, out var frame))
                {
                    stats.NeededMoreData++;
                    return $"{frames} frames {hash.ToHashCode():X8}, need more with {buffer.Length} of {inputLength} bytes left";
                }

                frames++;
                stats.Frames++;
                var consumed = before - buffer.Length;
                if (consumed != frame.Payload.Length + 8 || (frameMax != 0 && frame.Payload.Length > frameMax))
                {
                    throw new FuzzInvariantException($"frame consumed {consumed} bytes for a {frame.Payload.Length}-byte payload (frame_max {frameMax})");
                }

                var scratch = frame.Payload.IsSingleSegment ? [] : new byte[frame.Payload.Length];
                var payload = frame.GetContiguousPayload(scratch);
                hash.Add(frame.Type);
                hash.Add(frame.Channel);
                hash.AddBytes(payload);
                DecodeFrame(frame, payload, checkReencode, stats);
            }
        }
        catch (AmqpProtocolException e)
        {
            stats.ProtocolErrors++;
            return $"{frames} frames {hash.ToHashCode():X8}, {e.ReplyCode}: {e.Message}";
        }
    }

    private static void DecodeFrame(Frame frame, ReadOnlySpan<byte> payload, bool checkReencode, FuzzStats stats)
    {
        switch (frame.Type)
        {
            case FrameType.Method:
            {
                var id = frame.ReadMethodId();
                if (id != (Gateway.Protocol.Spec.AmqpMethodId)BinaryPrimitives.ReadUInt32BigEndian(payload))
                {
                    throw new FuzzInvariantException("ReadMethodId disagrees with the payload's first four octets");
                }

                if (!MethodCodecs.ById.TryGetValue(id, out var codec))
                {
                    stats.UnknownMethodIds++; // the server answers 540 NOT_IMPLEMENTED; nothing to decode
                    return;
                }

                var arguments = payload[4..];
                codec.Decode(arguments);
                stats.MethodsDecoded++;
                if (checkReencode)
                {
                    CheckReencode(codec, arguments, stats);
                }

                return;
            }

            case FrameType.Header:
            {
                var header = ContentHeader.Read(payload);
                var properties = BasicProperties.Read(header.PropertyBytes);
                stats.HeadersDecoded++;
                if (checkReencode)
                {
                    CheckReencode(properties, stats);
                }

                return;
            }

            default:
                return; // body and heartbeat payloads are opaque
        }
    }

    /// <summary>
    /// decode → encode must succeed (or fail only for a shortstr that grew past 255 bytes), and a
    /// second decode → encode of the result must reproduce it exactly: what we write we can read.
    /// </summary>
    private static void CheckReencode(MethodCodec codec, ReadOnlySpan<byte> arguments, FuzzStats stats)
    {
        byte[] normalized;
        try
        {
            normalized = codec.Reencode(arguments);
        }
        catch (ArgumentException e) when (IsShortStrGrowth(e))
        {
            stats.NotReencodable++;
            return;
        }

        byte[] again;
        try
        {
            again = codec.Reencode(normalized);
        }
        catch (AmqpProtocolException e)
        {
            throw new FuzzInvariantException($"{codec.Type.Name}: its own encoding {FrameMutator.ToHex(normalized)} does not decode", e);
        }

        if (!again.AsSpan().SequenceEqual(normalized))
        {
            throw new FuzzInvariantException(
                $"{codec.Type.Name}: encode(decode(x)) is not stable: {FrameMutator.ToHex(normalized)} became {FrameMutator.ToHex(again)}");
        }
    }

    private static void CheckReencode(BasicProperties properties, FuzzStats stats)
    {
        byte[] normalized;
        try
        {
            normalized = properties.ToBytes();
        }
        catch (ArgumentException e) when (IsShortStrGrowth(e))
        {
            stats.NotReencodable++;
            return;
        }

        byte[] again;
        try
        {
            again = BasicProperties.Read(normalized).ToBytes();
        }
        catch (AmqpProtocolException e)
        {
            throw new FuzzInvariantException($"BasicProperties: its own encoding {FrameMutator.ToHex(normalized)} does not decode", e);
        }

        if (!again.AsSpan().SequenceEqual(normalized))
        {
            throw new FuzzInvariantException(
                $"BasicProperties: encode(decode(x)) is not stable: {FrameMutator.ToHex(normalized)} became {FrameMutator.ToHex(again)}");
        }
    }

    /// <summary>FieldTableCodec.Decode plus the same stability check for tables.</summary>
    public static void RunTable(ReadOnlySpan<byte> bytes, FuzzStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        stats.TableInputs++;
        FieldTable table;
        try
        {
            table = FieldTableCodec.Decode(bytes);
        }
        catch (AmqpProtocolException)
        {
            stats.ProtocolErrors++;
            return;
        }

        stats.TablesDecoded++;
        byte[] normalized;
        try
        {
            normalized = FieldTableCodec.Encode(table);
        }
        catch (ArgumentException e) when (IsShortStrGrowth(e))
        {
            stats.NotReencodable++;
            return;
        }

        byte[] again;
        try
        {
            again = FieldTableCodec.Encode(FieldTableCodec.Decode(normalized));
        }
        catch (AmqpProtocolException e)
        {
            throw new FuzzInvariantException($"FieldTableCodec: its own encoding {FrameMutator.ToHex(normalized)} does not decode", e);
        }

        if (!again.AsSpan().SequenceEqual(normalized))
        {
            throw new FuzzInvariantException($"FieldTableCodec: encode(decode(x)) is not stable: {FrameMutator.ToHex(normalized)} became {FrameMutator.ToHex(again)}");
        }
    }

    /// <summary>BasicProperties.Read on arbitrary property bytes.</summary>
    public static void RunProperties(ReadOnlySpan<byte> bytes, FuzzStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        stats.PropertyInputs++;
        try
        {
            var properties = BasicProperties.Read(bytes);
            CheckReencode(properties, stats);
        }
        catch (AmqpProtocolException)
        {
            stats.ProtocolErrors++;
        }
    }

    private static bool IsShortStrGrowth(ArgumentException e) =>
        e.Message.Contains("shortstr holds at most 255 bytes", StringComparison.Ordinal);
}
