namespace Gateway.Log.Index;

/// <summary>One message in one topic: where its record is in the commit log, plus what filters and time seeks need.</summary>
internal readonly record struct IndexEntry(long Position, int Size, uint RoutingKeyHash, long Timestamp);

/// <summary>
/// A topic's offset → commit-log position map: fixed-size entries in chunks of
/// <see cref="ChunkSize"/>, so a topic of 10 million messages is about 610 arrays, not 10 million
/// objects, and an idle (empty) topic holds no chunk at all. One writer (the commit log's writer
/// thread, or recovery), any number of concurrent readers.
/// </summary>
internal sealed class TopicIndex
{
    public const int ChunkShift = 14;
    public const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private IndexEntry[][] _chunks = [];
    private long _count;

    public TopicIndex(string name) => Name = name;

    public string Name { get; }

    /// <summary>Entries published so far; the next append gets this offset.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Bytes held by entry chunks.</summary>
    public long AllocatedBytes => (long)Volatile.Read(ref _chunks).Length * ChunkSize * System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>();

    /// <summary>Writer only. Adds the entry at offset <see cref="Count"/> and publishes it.</summary>
    public long Append(in IndexEntry entry)
    {
        long offset = _count;
        int chunk = (int)(offset >> ChunkShift);
        IndexEntry[][] chunks = _chunks;
        if (chunk == chunks.Length)
        {
            var grown = new IndexEntry[chunk + 1][];
            Array.Copy(chunks, grown, chunks.Length);
            grown[chunk] = new IndexEntry[ChunkSize];
            Volatile.Write(ref _chunks, grown);
            chunks = grown;
        }

        chunks[chunk][offset & ChunkMask] = entry;
        Volatile.Write(ref _count, offset + 1);
        return offset;
    }

    public bool TryGet(long offset, out IndexEntry entry)
    {
        if (offset < 0 || offset >= Count)
        {
            entry = default;
            return false;
        }

        entry = Volatile.Read(ref _chunks)[offset >> ChunkShift][offset & ChunkMask];
        return true;
    }
}
