using System.Buffers;

namespace Gateway.Fuzz.Tests;

/// <summary>
/// Builds multi-segment <see cref="ReadOnlySequence{T}"/>s the way a PipeReader hands them out:
/// the bytes split across separately allocated segments, so code that wrongly assumes a contiguous
/// buffer reads the wrong bytes or fails instead of silently working.
/// </summary>
public static class SegmentedSequence
{
    /// <summary>A sequence over the given chunks, each copied into its own array.</summary>
    public static ReadOnlySequence<byte> Create(IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(chunks[0].ToArray(), 0);
        var last = first;
        for (var i = 1; i < chunks.Count; i++)
        {
            last = last.Append(chunks[i].ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>
    /// Splits <paramref name="data"/> at the given offsets (ascending, each in 0..Length; repeats make
    /// empty segments).
    /// </summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, IReadOnlyList<int> cuts)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        var chunks = new List<ReadOnlyMemory<byte>>(cuts.Count + 1);
        var start = 0;
        foreach (var cut in cuts)
        {
            if (cut < start || cut > data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(cuts), $"cut {cut} is outside {start}..{data.Length}");
            }

            chunks.Add(data[start..cut]);
            start = cut;
        }

        chunks.Add(data[start..]);
        return Create(chunks);
    }

    /// <summary>
    /// Splits at up to <paramref name="maxSegments"/> − 1 random points. Sometimes cuts every byte (the
    /// worst case for a reader) and sometimes leaves empty segments in the chain.
    /// </summary>
    public static ReadOnlySequence<byte> SplitRandomly(ReadOnlyMemory<byte> data, Random random, int maxSegments = 8)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Split(data, RandomCuts(data.Length, random, maxSegments));
    }

    /// <summary>The cut points <see cref="SplitRandomly"/> uses, for reporting a failing split.</summary>
    public static int[] RandomCuts(int length, Random random, int maxSegments = 8)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (length <= 64 && random.Next(16) == 0)
        {
            // One byte per segment.
            return [.. Enumerable.Range(1, Math.Max(0, length - 1))];
        }

        var count = random.Next(1, Math.Max(2, maxSegments));
        var cuts = new int[count];
        for (var i = 0; i < count; i++)
        {
            cuts[i] = random.Next(length + 1);
        }

        Array.Sort(cuts);
        return cuts;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
