using System.Collections.Concurrent;

namespace Gateway.Log.Index;

/// <summary>
/// Bounds the memory held by sealed index chunks across all topics. A sealed chunk is immutable and
/// already in its chunk file, so dropping it costs only a re-read (one 384 KiB pread) if it is
/// needed again. Eviction is first-in first-out, which fits the access pattern: consumers read a
/// topic forward, so the chunks sealed or loaded longest ago are the ones passed already.
/// </summary>
internal sealed class IndexChunkCache(long budgetBytes)
{
    private readonly ConcurrentQueue<(TopicIndex Topic, int Chunk, IndexEntry[] Entries)> _resident = new();
    private long _bytes;

    /// <summary>Bytes of sealed chunks currently counted as resident.</summary>
    public long ResidentBytes => Volatile.Read(ref _bytes);

    public long BudgetBytes { get; } = budgetBytes;

    /// <summary>Records that <paramref name="entries"/> is resident for <paramref name="topic"/>; evicts the oldest chunks beyond the budget.</summary>
    public void Add(TopicIndex topic, int chunk, IndexEntry[] entries)
    {
        _resident.Enqueue((topic, chunk, entries));
        long bytes = Interlocked.Add(ref _bytes, TopicIndex.ChunkBytes);
        while (bytes > BudgetBytes && _resident.TryDequeue(out (TopicIndex Topic, int Chunk, IndexEntry[] Entries) oldest))
        {
            oldest.Topic.Evict(oldest.Chunk, oldest.Entries);
            bytes = Interlocked.Add(ref _bytes, -TopicIndex.ChunkBytes);
        }
    }
}
