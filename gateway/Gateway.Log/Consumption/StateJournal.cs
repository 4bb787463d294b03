using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Log.Consumption;

/// <summary>What a state-journal record says.</summary>
internal enum JournalRecordKind : byte
{
    /// <summary>Offsets [A, B) of topic were settled (acked, rejected without requeue, purged, discarded).</summary>
    Settled = 1,

    /// <summary>Offsets below A of topic may have been delivered (for the redelivered flag after a restart).</summary>
    Cursor = 2,

    /// <summary>Topic's retention became: max age A ms, max bytes B (−1 = no limit), C = flags (see CheckpointFile.Flags).</summary>
    Retention = 3,
}

internal readonly record struct JournalRecord(JournalRecordKind Kind, long Topic, long A, long B, long C);

/// <summary>
/// The consumption state's write-ahead journal: fixed 48-byte checksummed records, buffered in
/// memory and written with one write and one fsync per <see cref="MessageLogOptions.StateFlushInterval"/>,
/// never per ack. So acking costs no I/O, and a crash forgets at most the settles of the last interval:
/// those messages are delivered again (at-least-once), while an unsettled message is never recorded
/// as settled and so is never lost. Each checkpoint starts a new generation file
/// (<c>state-NNN.journal</c>) and deletes the ones its snapshot supersedes.
/// </summary>
/// <remarks>
/// Record layout (little-endian): u32 length (48), u32 CRC32C of bytes [8, 48), u8 kind,
/// 7 reserved, i64 topic id, i64 A, i64 B, i64 C. Consecutive settles of the same topic are merged
/// into one range record while still buffered, so an in-order ack stream costs one record per flush.
/// </remarks>
internal sealed class StateJournal : IDisposable
{
    public const int RecordSize = 48;
    private const string FilePattern = "state-*.journal";

    private readonly string _directory;
    private readonly Lock _lock = new();
    private readonly Lock _flushLock = new();
    private readonly HashSet<TopicConsumption> _cursorsMoved = [];
    private byte[] _buffer = new byte[64 * RecordSize];
    private int _used;
    private int _lastSettledAt = -1;
    private byte[] _unwritten = [];   // records of a flush whose write failed, retried first
    private SafeFileHandle _file;
    private long _fileLength;
    private long _flushes;

    public StateJournal(string directory, long generation)
    {
        _directory = directory;
        Generation = generation;
        _file = OpenGeneration(generation);
        _fileLength = RandomAccess.GetLength(_file) / RecordSize * RecordSize;
    }

    /// <summary>The generation new records go to.</summary>
    public long Generation { get; private set; }

    /// <summary>Flushes that wrote something (metric and tests).</summary>
    public long Flushes => Volatile.Read(ref _flushes);

    public void RecordSettled(long topic, long start, long end)
    {
        lock (_lock)
        {
            if (_lastSettledAt >= 0)
            {
                Span<byte> last = _buffer.AsSpan(_lastSettledAt, RecordSize);
                if (BinaryPrimitives.ReadInt64LittleEndian(last[16..]) == topic && BinaryPrimitives.ReadInt64LittleEndian(last[32..]) == start)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(last[32..], end);
                    return;
                }
            }

            _lastSettledAt = _used;
            Append(new JournalRecord(JournalRecordKind.Settled, topic, start, end, 0));
        }
    }

    public void Record(JournalRecord record)
    {
        lock (_lock)
        {
            Append(record);
        }
    }

    /// <summary>Asks the next flush to record <paramref name="consumption"/>'s cursor.</summary>
    public void CursorMoved(TopicConsumption consumption)
    {
        lock (_lock)
        {
            _cursorsMoved.Add(consumption);
        }
    }

    /// <summary>Writes and fsyncs everything buffered. I/O errors propagate; the records are kept and written by the next flush.</summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            // Cursors are read outside the journal's lock: queues take their own lock and then this
            // one (to record a settle), so holding this one while taking theirs would deadlock.
            TopicConsumption[] moved;
            lock (_lock)
            {
                moved = [.. _cursorsMoved];
                _cursorsMoved.Clear();
            }

            var cursors = new (long Topic, long Cursor)[moved.Length];
            for (int i = 0; i < moved.Length; i++)
            {
                cursors[i] = (moved[i].TopicId, moved[i].Cursor);
            }

            byte[] data;
            lock (_lock)
            {
                foreach ((long topic, long cursor) in cursors)
                {
                    Append(new JournalRecord(JournalRecordKind.Cursor, topic, cursor, 0, 0));
                }

                if (_used == 0 && _unwritten.Length == 0)
                {
                    return;
                }

                data = [.. _unwritten, .. _buffer.AsSpan(0, _used)];
                _used = 0;
                _lastSettledAt = -1;
                _unwritten = data;   // until written
            }

            for (int at = 0; at < data.Length; at += RecordSize)
            {
                Span<byte> record = data.AsSpan(at, RecordSize);
                BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(record[8..]));
            }

            RandomAccess.Write(_file, data, _fileLength);
            RandomAccess.FlushToDisk(_file);
            _fileLength += data.Length;
            Interlocked.Increment(ref _flushes);
            lock (_lock)
            {
                _unwritten = [];
            }
        }
    }

    /// <summary>
    /// Flushes, then sends new records to a new generation. A snapshot taken after this call covers
    /// every record of the older generations, so they may be deleted once that snapshot is durable.
    /// </summary>
    public long Rotate()
    {
        lock (_flushLock)
        {
            Flush();
            SafeFileHandle next = OpenGeneration(Generation + 1);
            lock (_lock)
            {
                _file.Dispose();
                _file = next;
                _fileLength = 0;
                Generation++;
                return Generation;
            }
        }
    }

    /// <summary>The highest generation with a file in <paramref name="directory"/>, or <paramref name="atLeast"/> if that is higher.</summary>
    public static long LatestGeneration(string directory, long atLeast)
    {
        List<(long Generation, string Path)> files = List(directory);
        return files.Count == 0 ? atLeast : Math.Max(atLeast, files[^1].Generation);
    }

    /// <summary>Deletes generation files older than <paramref name="generation"/>.</summary>
    public void DeleteGenerationsBelow(long generation)
    {
        foreach ((long gen, string path) in List(_directory))
        {
            if (gen < generation)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>Reads every valid record of the generations ≥ <paramref name="fromGeneration"/>, in order; a torn record ends its file.</summary>
    public static IEnumerable<JournalRecord> Replay(string directory, long fromGeneration)
    {
        byte[] record = new byte[RecordSize];
        foreach ((long gen, string path) in List(directory))
        {
            if (gen < fromGeneration)
            {
                continue;
            }

            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long length = RandomAccess.GetLength(file);
            for (long at = 0; at + RecordSize <= length; at += RecordSize)
            {
                if (RandomAccess.Read(file, record, at) != RecordSize
                    || BinaryPrimitives.ReadUInt32LittleEndian(record) != RecordSize
                    || BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(4)) != Crc32C.Compute(record.AsSpan(8)))
                {
                    break;
                }

                yield return new JournalRecord(
                    (JournalRecordKind)record[8],
                    BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(16)),
                    BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(24)),
                    BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32)),
                    BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(40)));
            }
        }
    }

    public void Dispose()
    {
        lock (_flushLock)
        {
            _file.Dispose();
        }
    }

    private void Append(JournalRecord record)
    {
        if (_used + RecordSize > _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        Span<byte> span = _buffer.AsSpan(_used, RecordSize);
        span.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(span, RecordSize);
        span[8] = (byte)record.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], record.Topic);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], record.A);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], record.B);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], record.C);
        _used += RecordSize;
    }

    private SafeFileHandle OpenGeneration(long generation) =>
        File.OpenHandle(Path.Combine(_directory, $"state-{generation.ToString("D20", CultureInfo.InvariantCulture)}.journal"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);

    private static List<(long Generation, string Path)> List(string directory)
    {
        var found = new List<(long, string)>();
        foreach (string path in Directory.GetFiles(directory, FilePattern))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (long.TryParse(name.AsSpan("state-".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long gen))
            {
                found.Add((gen, path));
            }
        }

        found.Sort((x, y) => x.Item1.CompareTo(y.Item1));
        return found;
    }
}
