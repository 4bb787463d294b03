using System.Buffers;

namespace Gateway.Protocol.Tests.Support;

/// <summary>Builds multi-segment ReadOnlySequences, as a PipeReader hands over data that arrived in pieces.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var pieces = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            pieces.Add(bytes[start..cut]);
            start = cut;
        }

        return Of(pieces);
    }

    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes) => Of(bytes.Select(b => new[] { b }));

    private static ReadOnlySequence<byte> Of(IEnumerable<byte[]> pieces)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (var piece in pieces)
        {
            var segment = new Segment(piece);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Append(segment);
            }

            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
