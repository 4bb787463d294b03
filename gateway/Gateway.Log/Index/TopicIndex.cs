using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Log.Index;

/// <summary>
/// One message in one topic: where its record is in the commit log, plus what filters, time seeks
/// and size retention need. Chunk files hold these 24-byte structs as they are in memory
/// (little-endian on every platform .NET runs this engine on), so loading a chunk is one read.
/// </summary>
internal readonly record struct IndexEntry(long Position, int Size, uint RoutingKeyHash, long Timestamp);

/// <summary>
/// A topic's offset → commit-log entry map. Entries are fixed 24-byte structs in chunks of
/// <see cref="ChunkSize"/> (no object per message). The last chunk (the tail) starts small and
/// doubles, so a topic holding a handful of messages costs a few hundred bytes. A full chunk is
/// sealed: written to its chunk file (page cache, no fsync: the index is derived data) and handed
/// to the shared <see cref="IndexChunkCache"/>, which may drop it from memory; a read of a dropped
/// chunk loads it back. Checkpoints write the tail too and fsync the files, and release the tails
/// of idle topics, so an idle topic costs an object and a few fields whatever it holds.
/// Threading: one writer (the commit log's writer thread, or recovery) appends; any thread reads.
/// See docs/log-engine.md.
/// </summary>
internal sealed class TopicIndex
{
    public const int ChunkShift = 14;
    public const int ChunkSize = 1 << ChunkShift;
    public static readonly int EntrySize = Unsafe.SizeOf<IndexEntry>();
    public static readonly long ChunkBytes = (long)ChunkSize * EntrySize;
    private const int ChunkMask = ChunkSize - 1;
    private const int InitialTailCapacity = 16;

    private readonly IndexChunkCache _cache;
    private readonly Lock _loadLock = new();
    private readonly string _indexRoot;
    private ConcurrentDictionary<int, IndexEntry[]>? _unwrittenSealed;   // only after a failed chunk write
    private IndexEntry[]?[] _chunks = [];
    private long _count;
    private long _start;
    private long _bytes;
    private long _lastTimestamp;

    /// <param name="indexRoot">The directory holding every topic's index directory (shared string: an idle topic should not own one).</param>
    public TopicIndex(long id, string name, string indexRoot, IndexChunkCache cache)
    {
        Id = id;
        Name = name;
        _indexRoot = indexRoot;
        _cache = cache;
    }

    /// <summary>The commit-log position of the topic's creation record: unique for the log's lifetime, unlike the name.</summary>
    public long Id { get; }

    public string Name { get; }

    /// <summary>Where this topic's chunk files live: named after <see cref="Id"/>, since a name can be reused after a delete.</summary>
    public string Directory => Path.Combine(_indexRoot, Id.ToString("D20", CultureInfo.InvariantCulture));

    /// <summary>Entries published so far; the next append gets this offset.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The first offset still retained; entries below it are gone.</summary>
    public long Start => Volatile.Read(ref _start);

    /// <summary>Record bytes of the retained entries [<see cref="Start"/>, <see cref="Count"/>).</summary>
    public long RetainedBytes => Volatile.Read(ref _bytes);

    /// <summary>Timestamp of the last entry (entries' timestamps never decrease, see <see cref="Append"/>).</summary>
    public long LastTimestamp => Volatile.Read(ref _lastTimestamp);

    /// <summary>Entries known to be in fsynced chunk files (as of the last checkpoint).</summary>
    public long PersistedCount { get; private set; }

    /// <summary>Whether an append happened since the last checkpoint.</summary>
    public bool ChangedSinceCheckpoint => Count != PersistedCount;

    /// <summary>Bytes of entry arrays this topic holds in memory right now.</summary>
    public long ResidentBytes
    {
        get
        {
            long bytes = 0;
            foreach (IndexEntry[]? chunk in Volatile.Read(ref _chunks))
            {
                bytes += chunk is null ? 0 : (long)chunk.Length * EntrySize;
            }

            return bytes;
        }
    }

    /// <summary>Restores the state a checkpoint recorded; chunks stay on disk until read or appended to.</summary>
    public void Restore(long count, long start, long retainedBytes, long lastTimestamp)
    {
        _count = count;
        _start = Math.Min(start, count);
        _bytes = retainedBytes;
        _lastTimestamp = lastTimestamp;
        PersistedCount = count;
        _chunks = new IndexEntry[]?[ChunkCount(count)];
    }

    /// <summary>
    /// Writer only. Adds the entry at offset <see cref="Count"/> and publishes it. The stored
    /// timestamp is clamped to be at least the previous entry's, so a seek by time is a binary
    /// search even when publishers' clocks or arrival order disagree slightly; replay clamps the
    /// same way, so a rebuild yields the same entries.
    /// </summary>
    public long Append(IndexEntry entry)
    {
        long offset = _count;
        int chunk = (int)(offset >> ChunkShift);
        int slot = (int)(offset & ChunkMask);
        long timestamp = Math.Max(entry.Timestamp, _lastTimestamp);
        entry = entry with { Timestamp = timestamp };
        IndexEntry[]?[] chunks = _chunks;
        if (chunk >= chunks.Length)
        {
            var grown = new IndexEntry[]?[Math.Max(chunk + 1, chunks.Length * 2)];
            Array.Copy(chunks, grown, chunks.Length);
            Volatile.Write(ref _chunks, grown);
            chunks = grown;
        }

        IndexEntry[] tail = Volatile.Read(ref chunks[chunk]) ?? LoadTail(chunk);
        if (slot == tail.Length)
        {
            // Readers that still hold the smaller array see every entry they may read (< Count).
            var larger = new IndexEntry[Math.Min(ChunkSize, tail.Length * 2)];
            Array.Copy(tail, larger, tail.Length);
            Volatile.Write(ref chunks[chunk], larger);
            tail = larger;
        }

        tail[slot] = entry;
        Volatile.Write(ref _bytes, _bytes + entry.Size);
        Volatile.Write(ref _lastTimestamp, timestamp);
        Volatile.Write(ref _count, offset + 1);
        if (slot == ChunkMask)
        {
            Seal(chunk, tail);
        }

        return offset;
    }

    public bool TryGet(long offset, out IndexEntry entry)
    {
        if (offset < Start || offset >= Count)
        {
            entry = default;
            return false;
        }

        int chunk = (int)(offset >> ChunkShift);
        IndexEntry[] entries = Volatile.Read(ref Volatile.Read(ref _chunks)[chunk]) ?? Load(chunk);
        entry = entries[offset & ChunkMask];
        return true;
    }

    /// <summary>
    /// The entry at <paramref name="offset"/> without making its chunk resident (one 24-byte read if
    /// it is not): for bookkeeping over idle topics, whose chunks should stay out of memory.
    /// </summary>
    public bool TryPeek(long offset, out IndexEntry entry)
    {
        entry = default;
        if (offset < Start || offset >= Count)
        {
            return false;
        }

        int chunk = (int)(offset >> ChunkShift);
        if (Volatile.Read(ref Volatile.Read(ref _chunks)[chunk]) is { } resident)
        {
            entry = resident[offset & ChunkMask];
            return true;
        }

        using SafeFileHandle file = OpenChunk(chunk, FileMode.Open);
        Span<IndexEntry> one = MemoryMarshal.CreateSpan(ref entry, 1);
        return RandomAccess.Read(file, MemoryMarshal.AsBytes(one), (offset & ChunkMask) * EntrySize) == EntrySize;
    }

    /// <summary>The first retained offset whose timestamp is ≥ <paramref name="timestamp"/>, or <see cref="Count"/> if none.</summary>
    public long SeekByTimestamp(long timestamp)
    {
        long lo = Start, hi = Count;
        while (lo < hi)
        {
            long mid = lo + ((hi - lo) / 2);
            if (!TryGet(mid, out IndexEntry entry))
            {
                return Count;   // retention moved past the range being searched
            }

            if (entry.Timestamp < timestamp)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// Moves <see cref="Start"/> up to <paramref name="newStart"/> (retention, purge, delete) and drops
    /// fully passed chunks from memory; their files go after the next checkpoint. Any thread.
    /// </summary>
    public void AdvanceStart(long newStart)
    {
        lock (_loadLock)
        {
            long start = _start;
            newStart = Math.Min(newStart, Count);
            if (newStart <= start)
            {
                return;
            }

            long dropped = 0;
            for (long offset = start; offset < newStart; offset++)
            {
                IndexEntry[] entries = Volatile.Read(ref _chunks[(int)(offset >> ChunkShift)]) ?? LoadLocked((int)(offset >> ChunkShift));
                dropped += entries[offset & ChunkMask].Size;
            }

            Interlocked.Add(ref _bytes, -dropped);
            Volatile.Write(ref _start, newStart);
            IndexEntry[]?[] chunks = _chunks;
            for (int chunk = (int)(start >> ChunkShift); chunk < (int)(newStart >> ChunkShift) && chunk < chunks.Length; chunk++)
            {
                Volatile.Write(ref chunks[chunk], null);
            }
        }
    }

    /// <summary>Chunk files wholly below <see cref="Start"/> that a checkpoint recording that start makes deletable.</summary>
    public IEnumerable<string> FilesBelow(long start)
    {
        foreach (string path in System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, "*.idx") : [])
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out int chunk)
                && ((long)chunk + 1) * ChunkSize <= start)
            {
                yield return path;
            }
        }
    }

    /// <summary>
    /// Writer only (checkpoint barrier). The tail entries not yet in a fsynced file, copied so they
    /// can be written off the writer thread, and the chunks the checkpoint must fsync.
    /// </summary>
    public PendingIndexWrite CapturePending()
    {
        long count = _count;
        long from = PersistedCount;
        IndexEntry[] tailCopy = [];
        long tailBase = count & ~(long)ChunkMask;
        if (count > tailBase && count > from)
        {
            IndexEntry[] tail = Volatile.Read(ref _chunks[(int)(tailBase >> ChunkShift)]) ?? LoadTail((int)(tailBase >> ChunkShift));
            tailCopy = tail.AsSpan(0, (int)(count - tailBase)).ToArray();
        }

        int firstChunk = (int)(from >> ChunkShift);
        int lastChunk = (int)((count - 1) >> ChunkShift);
        return new PendingIndexWrite(this, count, tailBase, tailCopy, count > from ? firstChunk : 0, count > from ? lastChunk - firstChunk + 1 : 0);
    }

    /// <summary>Writes the captured tail and fsyncs every chunk file touched since the last checkpoint.</summary>
    public void Persist(PendingIndexWrite pending)
    {
        System.IO.Directory.CreateDirectory(Directory);
        for (int chunk = pending.FirstChunk; chunk < pending.FirstChunk + pending.ChunkCount; chunk++)
        {
            if (((long)chunk + 1) * ChunkSize <= Start)
            {
                continue;   // retention passed it; its file is about to go
            }

            using SafeFileHandle file = OpenChunk(chunk, FileMode.OpenOrCreate);
            if ((long)chunk << ChunkShift == pending.TailBase && pending.Tail.Length > 0)
            {
                RandomAccess.Write(file, MemoryMarshal.AsBytes(pending.Tail.AsSpan()), 0);
            }
            else if (_unwrittenSealed is not null && _unwrittenSealed.TryGetValue(chunk, out IndexEntry[]? entries))
            {
                RandomAccess.Write(file, MemoryMarshal.AsBytes(entries.AsSpan()), 0);
            }

            RandomAccess.FlushToDisk(file);
        }

        // Chunks whose write failed at sealing are on disk now, so they may be evicted like any other.
        if (_unwrittenSealed is { } unwritten)
        {
            foreach ((int chunk, IndexEntry[] entries) in unwritten)
            {
                if (chunk >= pending.FirstChunk && chunk < pending.FirstChunk + pending.ChunkCount && unwritten.TryRemove(chunk, out _))
                {
                    _cache.Add(this, chunk, entries);
                }
            }
        }
    }

    /// <summary>Called once the checkpoint that contains <paramref name="pending"/> is durable.</summary>
    public void MarkPersisted(PendingIndexWrite pending) => PersistedCount = Math.Max(PersistedCount, pending.Count);

    /// <summary>
    /// Writer only (checkpoint barrier). Drops the tail from memory if nothing was appended since the
    /// last checkpoint, whose file write and fsync hold every entry of it: idle topics cost no arrays.
    /// </summary>
    public void ReleaseIdleTail()
    {
        long count = _count;
        if (count == 0 || count != PersistedCount)
        {
            return;
        }

        IndexEntry[]?[] chunks = _chunks;
        int tail = (int)((count - 1) >> ChunkShift);
        if ((count & ChunkMask) != 0 && tail < chunks.Length)
        {
            Volatile.Write(ref chunks[tail], null);
        }
    }

    /// <summary>Cache callback: forget <paramref name="entries"/> if it is still the resident copy of <paramref name="chunk"/>.</summary>
    public void Evict(int chunk, IndexEntry[] entries)
    {
        IndexEntry[]?[] chunks = Volatile.Read(ref _chunks);
        if (chunk < chunks.Length)
        {
            Interlocked.CompareExchange(ref chunks[chunk], null, entries);
        }
    }

    private void Seal(int chunk, IndexEntry[] entries)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using SafeFileHandle file = OpenChunk(chunk, FileMode.OpenOrCreate);
            RandomAccess.Write(file, MemoryMarshal.AsBytes(entries.AsSpan()), 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Out of space for index files: keep the chunk in memory (not evictable); the next
            // checkpoint writes it again from here.
            LazyInitializer.EnsureInitialized(ref _unwrittenSealed)[chunk] = entries;
            return;
        }

        _cache.Add(this, chunk, entries);
    }

    /// <summary>The tail chunk is on disk only (recovered, or released while idle): load its entries below Count.</summary>
    private IndexEntry[] LoadTail(int chunk)
    {
        lock (_loadLock)
        {
            return Volatile.Read(ref _chunks[chunk]) ?? LoadLocked(chunk);
        }
    }

    private IndexEntry[] Load(int chunk)
    {
        lock (_loadLock)
        {
            return Volatile.Read(ref Volatile.Read(ref _chunks)[chunk]) ?? LoadLocked(chunk);
        }
    }

    private IndexEntry[] LoadLocked(int chunk)
    {
        long count = Count;
        long chunkBase = (long)chunk << ChunkShift;
        int entries = (int)Math.Min(ChunkSize, count - chunkBase);
        bool sealedChunk = entries == ChunkSize;
        var loaded = new IndexEntry[sealedChunk ? ChunkSize : Math.Max(InitialTailCapacity, (int)Math.Min(ChunkSize, BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, entries))))];
        if (entries > 0)
        {
            using SafeFileHandle file = OpenChunk(chunk, FileMode.Open);
            Span<byte> bytes = MemoryMarshal.AsBytes(loaded.AsSpan(0, entries));
            int read = 0;
            while (read < bytes.Length)
            {
                int n = RandomAccess.Read(file, bytes[read..], read);
                if (n == 0)
                {
                    throw new MessageLogCorruptionException($"Index chunk {chunk} of topic '{Name}' is shorter than its checkpoint recorded.");
                }

                read += n;
            }
        }

        Volatile.Write(ref _chunks[chunk], loaded);
        if (sealedChunk)
        {
            _cache.Add(this, chunk, loaded);
        }

        return loaded;
    }

    private SafeFileHandle OpenChunk(int chunk, FileMode mode) =>
        File.OpenHandle(Path.Combine(Directory, chunk.ToString("D10", CultureInfo.InvariantCulture) + ".idx"), mode, FileAccess.ReadWrite, FileShare.ReadWrite);

    private static int ChunkCount(long count) => (int)((count + ChunkMask) >> ChunkShift);
}

/// <summary>What a checkpoint must make durable for one topic (see <see cref="TopicIndex.CapturePending"/>).</summary>
internal sealed record PendingIndexWrite(TopicIndex Topic, long Count, long TailBase, IndexEntry[] Tail, int FirstChunk, int ChunkCount);
