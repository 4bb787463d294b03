using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Gateway.Log.Storage;

namespace Gateway.Log.Commit;

/// <summary>
/// Told about each record once it is durable, on the writer thread, in log order, before its
/// append completes; what it returns becomes the append's topic offsets. Must not throw.
/// </summary>
internal interface ICommitLogListener
{
    IReadOnlyList<long> OnAppended(long position, int length, RecordKind kind, LogMessage message);

    /// <summary>
    /// Called during <see cref="CommitLog.Open(CommitLogOptions)"/> for every valid record found by
    /// the recovery scan, in log order; <paramref name="header"/> has no properties or body.
    /// </summary>
    void OnRecovered(long position, int length, RecordKind kind, LogMessage header);
}

/// <summary>
/// The append-only commit log: preallocated segment files, one writer thread doing group commit
/// (one write and one fsync per batch of appends), checksummed records, and a recovery scan that
/// truncates a torn tail. Positions are global byte offsets: a segment file is named after the
/// position of its first byte. See docs/log-engine.md.
/// </summary>
public sealed class CommitLog : IAsyncDisposable
{
    private const string SegmentPattern = "*.seg";
    private const int ScanChunk = 1024 * 1024;

    private readonly CommitLogOptions _options;
    private readonly ILogFileSystem _fs;
    private readonly ICommitLogListener? _listener;
    private readonly Channel<PendingAppend> _queue;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Readers take a snapshot of the array; the writer replaces it (copy on write) when it adds a segment.
    private volatile Segment[] _segments;
    private long _visibleEnd;

    // Writer-thread state.
    private Segment _active;
    private long _writeOffset;   // within _active: where the next record goes
    private long _garbageEnd;    // within _active: bytes in [_writeOffset, _garbageEnd) may hold a failed batch
    private bool _dirty;         // written but not fsynced
    private long _lastFlushTicks;
    private byte[] _buffer = new byte[64 * 1024];
    private int _disposed;
    private long _fsyncs;

    private CommitLog(CommitLogOptions options, ICommitLogListener? listener, Segment[] segments, long writeOffset, CommitLogRecovery recovery)
    {
        _options = options;
        _fs = options.FileSystem;
        _listener = listener;
        _segments = segments;
        _active = segments[^1];
        _writeOffset = writeOffset;
        _visibleEnd = _active.Base + writeOffset;
        _lastFlushTicks = Stopwatch.GetTimestamp();
        Recovery = recovery;
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(options.MaxPendingAppends)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "commit-log-writer" };
        _writer.Start();
    }

    /// <summary>What the recovery scan found when the log was opened.</summary>
    public CommitLogRecovery Recovery { get; }

    /// <summary>First position after the last completed append: everything below it is readable.</summary>
    public long EndPosition => Volatile.Read(ref _visibleEnd);

    /// <summary>fsyncs issued since the log was opened (metric: appends per fsync shows how well group commit batches).</summary>
    public long Fsyncs => Volatile.Read(ref _fsyncs);

    /// <summary>The position of the first record, 0 until segments are reclaimed.</summary>
    public long StartPosition => _segments[0].Base;

    /// <summary>Opens (recovering) or creates the log in <see cref="CommitLogOptions.Directory"/>.</summary>
    public static CommitLog Open(CommitLogOptions options) => Open(options, listener: null);

    /// <summary>
    /// Opens the log; the recovery scan validates and replays into <paramref name="listener"/> only
    /// the records at or after <paramref name="replayFrom"/> (a record boundary that was durable when
    /// a checkpoint recorded it). Earlier segments are sealed and fsynced, so they are opened unscanned;
    /// each of their records is still checksummed when read.
    /// </summary>
    internal static CommitLog Open(CommitLogOptions options, ICommitLogListener? listener, long replayFrom = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        System.IO.Directory.CreateDirectory(options.Directory);
        (Segment[] segments, long writeOffset, CommitLogRecovery recovery) = Recover(options, listener, replayFrom);
        return new CommitLog(options, listener, segments, writeOffset, recovery);
    }

    /// <summary>
    /// Appends <paramref name="message"/> (all its destination topics in one record) and completes
    /// with its position once durable under the fsync policy. Fails with
    /// <see cref="MessageLogWriteException"/> if it could not be written; the log stays usable.
    /// The message's memory must not change until the task completes.
    /// </summary>
    public async ValueTask<long> AppendAsync(LogMessage message, CancellationToken cancellationToken = default) =>
        (await AppendRecordAsync(message, RecordKind.Message, cancellationToken).ConfigureAwait(false)).Position;

    /// <summary>
    /// Appends <paramref name="messages"/> as one atomic batch: their records are written contiguously,
    /// in order, in one segment and in one write, and completes with each one's result once the whole
    /// batch is durable. After a crash at any point either every record of the batch is recovered or
    /// none is: every record but the last carries <see cref="RecordFormat.BatchContinues"/>, and
    /// recovery drops a batch whose last record it does not find intact. If the write or fsync fails,
    /// every message fails together with <see cref="MessageLogWriteException"/>.
    /// </summary>
    internal async ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<LogMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            return [];
        }

        var lengths = new int[messages.Count];
        long total = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(messages[i]);
            lengths[i] = RecordFormat.Measure(messages[i]);
            total += lengths[i];
        }

        if (total > int.MaxValue / 2)
        {
            throw new ArgumentException("The batch is too large for the commit log.", nameof(messages));
        }

        var pending = new PendingAppend(messages, lengths, (int)total);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_queue.Writer.TryWrite(pending))
        {
            await EnqueueSlowAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await pending.Task.ConfigureAwait(false);
        }

        return pending.BatchResults!;
    }

    /// <summary>Appends a record of any kind; the result carries the listener's topic offsets.</summary>
    internal ValueTask<AppendResult> AppendRecordAsync(LogMessage message, RecordKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var pending = new PendingAppend(message, kind, RecordFormat.Measure(message));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _queue.Writer.TryWrite(pending) ? new ValueTask<AppendResult>(pending.Task) : EnqueueSlowAsync(pending, cancellationToken);
    }

    private async ValueTask<AppendResult> EnqueueSlowAsync(PendingAppend pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(CommitLog));
        }

        return await pending.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the writer thread between batches, after everything appended
    /// before it is durable (the log is fsynced first under every policy), and passes it
    /// <see cref="EndPosition"/>. Nothing is appended while it runs, so it sees the listener's state
    /// exactly as of that position: checkpoints snapshot the indexes this way.
    /// </summary>
    internal async ValueTask<long> RunOnWriterAsync(Action<long> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var barrier = new PendingAppend(action);
        return (await EnqueueSlowAsync(barrier, cancellationToken).ConfigureAwait(false)).Position;
    }

    /// <summary>
    /// Deletes every segment that ends at or before <paramref name="position"/>, except the active
    /// one. The caller guarantees nothing there is still needed and that a durable checkpoint lets
    /// recovery start at or after <paramref name="position"/>. Returns the segments deleted.
    /// </summary>
    internal async ValueTask<int> ReclaimSegmentsBelowAsync(long position, CancellationToken cancellationToken = default)
    {
        int reclaimed = 0;
        await RunOnWriterAsync(_ => reclaimed = ReclaimOnWriter(position), cancellationToken).ConfigureAwait(false);
        return reclaimed;
    }

    private int ReclaimOnWriter(long position)
    {
        Segment[] segments = _segments;
        int keepFrom = 0;
        while (keepFrom < segments.Length - 1 && segments[keepFrom].Base + segments[keepFrom].Length <= position)
        {
            keepFrom++;
        }

        if (keepFrom == 0)
        {
            return 0;
        }

        // Readers holding the old array may still touch a removed file: Read reports that as a
        // position before the start of the log, which the engine only asks for after a race with
        // retention (the message was already gone).
        _segments = segments[keepFrom..];
        for (int i = 0; i < keepFrom; i++)
        {
            segments[i].File.Dispose();
            _fs.Delete(SegmentPath(_options.Directory, segments[i].Base));
        }

        _fs.SyncDirectory(_options.Directory);
        return keepFrom;
    }

    /// <summary>Reads the record at <paramref name="position"/>, verifying its checksum.</summary>
    public CommitLogRecord Read(long position)
    {
        long end = EndPosition;
        Segment segment = FindSegment(position);
        long offset = position - segment.Base;
        long available = Math.Min(segment.Length, end - segment.Base) - offset;
        if (available < RecordFormat.HeaderSize)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, "No completed record at this position.");
        }

        try
        {
            Span<byte> header = stackalloc byte[RecordFormat.HeaderSize];
            segment.File.Read(offset, header);
            int length = RecordFormat.ReadLength(header, position, available);
            if (length <= 0)
            {
                throw new MessageLogCorruptionException($"No valid record at commit-log position {position}.");
            }

            byte[] record = new byte[length];
            if (segment.File.Read(offset, record) != length || !RecordFormat.IsValid(record, position))
            {
                throw new MessageLogCorruptionException($"Checksum mismatch in the record at commit-log position {position}.");
            }

            return RecordFormat.Decode(record, position);
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, "The segment holding this position was reclaimed.");
        }
    }

    /// <summary>
    /// The completed records from <paramref name="fromPosition"/> (a record start) up to the
    /// <see cref="EndPosition"/> at the time of the call, read lazily.
    /// </summary>
    public IEnumerable<CommitLogRecord> ReadFrom(long fromPosition)
    {
        long end = EndPosition;
        long position = fromPosition;
        byte[] header = new byte[RecordFormat.HeaderSize];
        while (position < end)
        {
            Segment segment = FindSegment(position);
            long offset = position - segment.Base;
            bool atSegmentEnd = segment.Length - offset < RecordFormat.HeaderSize;
            if (!atSegmentEnd)
            {
                segment.File.Read(offset, header);
                atSegmentEnd = RecordFormat.ReadLength(header, position, segment.Length - offset) == 0;
            }

            if (atSegmentEnd)
            {
                position = segment.Base + segment.Length;
                continue;
            }

            CommitLogRecord record = Read(position);
            yield return record;
            position += record.Length;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writerDone.Task.ConfigureAwait(false);
        foreach (Segment segment in _segments)
        {
            segment.File.Dispose();
        }
    }

    private Segment FindSegment(long position)
    {
        Segment[] segments = _segments;
        int lo = 0, hi = segments.Length - 1;
        if (position < segments[0].Base)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, "Position is before the start of the log.");
        }

        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (segments[mid].Base <= position)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return segments[lo];
    }

    // ---------------------------------------------------------------- writer thread

    private void WriterLoop()
    {
        var batch = new List<PendingAppend>();
        PendingAppend? carry = null;
        Task<bool>? wait = null;
        ChannelReader<PendingAppend> reader = _queue.Reader;
        try
        {
            while (true)
            {
                PendingAppend? first = carry;
                carry = null;
                if (first is null && !reader.TryRead(out first))
                {
                    wait ??= reader.WaitToReadAsync().AsTask();
                    if (_dirty && _options.FsyncPolicy == FsyncPolicy.Interval)
                    {
                        TimeSpan due = _options.FsyncInterval - Stopwatch.GetElapsedTime(_lastFlushTicks);
                        if (due <= TimeSpan.Zero || !wait.Wait(due))
                        {
                            TryFlushQuietly();
                            continue;
                        }
                    }

                    if (!wait.GetAwaiter().GetResult())
                    {
                        break;
                    }

                    wait = null;
                    continue;
                }

                wait = null;
                if (first.Barrier is not null)
                {
                    RunBarrier(first);
                    continue;
                }

                try
                {
                    EnsureRoom(first.Length);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    first.Fail(new MessageLogWriteException("The commit log could not start a new segment; the append was not stored.", ex));
                    continue;
                }

                carry = CollectBatch(first, batch, reader);
                CommitBatch(batch);
                batch.Clear();
            }

            if (_dirty)
            {
                TryFlushQuietly();
            }
        }
        catch (Exception ex)
        {
            // A bug, not an I/O error: fail everything still queued so no publisher waits forever.
            foreach (PendingAppend p in batch)
            {
                p.Fail(ex);
            }

            carry?.Fail(ex);
            _queue.Writer.TryComplete();
            while (reader.TryRead(out PendingAppend? p))
            {
                p.Fail(ex);
            }
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    /// <summary>Serialises <paramref name="first"/> and whatever else is queued (up to the batch and segment limits) into the buffer.</summary>
    private PendingAppend? CollectBatch(PendingAppend first, List<PendingAppend> batch, ChannelReader<PendingAppend> reader)
    {
        long room = _active.Length - _writeOffset;
        int used = 0;
        PendingAppend? next = first;
        while (next is not null)
        {
            if (next.Barrier is not null
                || (batch.Count > 0 && (used + (long)next.Length > room || used + (long)next.Length > _options.MaxBatchBytes)))
            {
                return next;
            }

            EnsureBuffer(used + next.Length);
            if (next.Batch is { } messages)
            {
                // An atomic batch: every record but the last says another follows (the recovery rule's anchor).
                int at = used;
                for (int i = 0; i < messages.Count; i++)
                {
                    byte flags = i < messages.Count - 1 ? RecordFormat.BatchContinues : (byte)0;
                    RecordFormat.Write(_buffer.AsSpan(at), messages[i], RecordKind.Message, _active.Base + _writeOffset + at, next.Lengths![i], flags);
                    at += next.Lengths[i];
                }
            }
            else
            {
                RecordFormat.Write(_buffer.AsSpan(used), next.Message, next.Kind, _active.Base + _writeOffset + used, next.Length);
            }

            batch.Add(next);
            used += next.Length;
            next = reader.TryRead(out PendingAppend? p) ? p : null;
        }

        return null;
    }

    private void CommitBatch(List<PendingAppend> batch)
    {
        int used = 0;
        foreach (PendingAppend p in batch)
        {
            used += p.Length;
        }

        // Bytes of an earlier failed batch beyond this one are overwritten with zeros in the same
        // write, so a later recovery cannot mistake them for records.
        int padding = (int)Math.Max(0, _garbageEnd - (_writeOffset + used));
        int total = used + padding;
        EnsureBuffer(total);
        _buffer.AsSpan(used, padding).Clear();
        try
        {
            _dirty = true;
            _active.File.Write(_writeOffset, _buffer.AsSpan(0, total));
            if (_options.FsyncPolicy == FsyncPolicy.Always
                || (_options.FsyncPolicy == FsyncPolicy.Interval && Stopwatch.GetElapsedTime(_lastFlushTicks) >= _options.FsyncInterval))
            {
                Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _garbageEnd = Math.Max(_garbageEnd, _writeOffset + total);
            var error = new MessageLogWriteException("The commit log could not write or fsync the batch; the append was not stored.", ex);
            foreach (PendingAppend p in batch)
            {
                p.Fail(error);
            }

            return;
        }

        if (_garbageEnd <= _writeOffset + total)
        {
            _garbageEnd = 0;
        }

        long position = _active.Base + _writeOffset;
        _writeOffset += used;
        Volatile.Write(ref _visibleEnd, _active.Base + _writeOffset);
        foreach (PendingAppend p in batch)
        {
            if (p.Batch is { } messages)
            {
                var results = new AppendResult[messages.Count];
                for (int i = 0; i < messages.Count; i++)
                {
                    IReadOnlyList<long> batchOffsets = _listener?.OnAppended(position, p.Lengths![i], RecordKind.Message, messages[i]) ?? [];
                    results[i] = new AppendResult(position, batchOffsets);
                    position += p.Lengths![i];
                }

                p.BatchResults = results;
                p.Complete(results.Length > 0 ? results[0] : default);
                continue;
            }

            IReadOnlyList<long> offsets = _listener?.OnAppended(position, p.Length, p.Kind, p.Message) ?? [];
            p.Complete(new AppendResult(position, offsets));
            position += p.Length;
        }
    }

    private void RunBarrier(PendingAppend barrier)
    {
        try
        {
            if (_dirty)
            {
                Flush();
            }

            long end = _active.Base + _writeOffset;
            barrier.Barrier!(end);
            barrier.Complete(new AppendResult(end, []));
        }
        catch (Exception ex)
        {
            // The work failed, not the log: its caller gets the exception and the writer carries on.
            barrier.Fail(ex);
        }
    }

    /// <summary>Makes sure a record of <paramref name="length"/> bytes fits in the active segment, rolling to a new one if not.</summary>
    private void EnsureRoom(int length)
    {
        if (_writeOffset + length <= _active.Length)
        {
            return;
        }

        // Seal the full segment: clear any failed-batch bytes and make it durable, so recovery may
        // treat every segment but the last as complete and never needs to truncate one.
        if (_garbageEnd > _writeOffset)
        {
            _dirty = true;
            _active.File.Write(_writeOffset, new byte[_garbageEnd - _writeOffset]);
        }

        if (_dirty)
        {
            Flush();
        }

        // Only forget the failed bytes once their zeros are durable: after a failed fsync the
        // kernel may have dropped them, so the next attempt rewrites them.
        _garbageEnd = 0;

        long nextBase = _active.Base + _active.Length;
        long size = Math.Max(_options.SegmentSize, length);
        ILogFile file = _fs.Create(SegmentPath(_options.Directory, nextBase), size);
        try
        {
            file.Flush();
            _fs.SyncDirectory(_options.Directory);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        var segment = new Segment(nextBase, size, file);
        _segments = [.. _segments, segment];
        _active = segment;
        _writeOffset = 0;
        _garbageEnd = 0;
        Volatile.Write(ref _visibleEnd, nextBase);
    }

    private void Flush()
    {
        Interlocked.Increment(ref _fsyncs);
        _active.File.Flush();
        _dirty = false;
        _lastFlushTicks = Stopwatch.GetTimestamp();
    }

    private void TryFlushQuietly()
    {
        try
        {
            Flush();
        }
        catch (IOException)
        {
            // Interval/None policies: completed appends were promised only the page cache. The
            // next batch or the next interval tries again.
        }
    }

    private void EnsureBuffer(int size)
    {
        if (_buffer.Length < size)
        {
            Array.Resize(ref _buffer, Math.Max(size, _buffer.Length * 2));
        }
    }

    // ---------------------------------------------------------------- recovery

    private static string SegmentPath(string directory, long baseOffset) =>
        Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + ".seg");

    private static (Segment[] Segments, long WriteOffset, CommitLogRecovery Recovery) Recover(CommitLogOptions options, ICommitLogListener? listener, long replayFrom)
    {
        ILogFileSystem fs = options.FileSystem;
        var found = new List<(long Base, string Path)>();
        foreach (string path in fs.List(options.Directory, SegmentPattern))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long b))
            {
                found.Add((b, path));
            }
        }

        found.Sort((x, y) => x.Base.CompareTo(y.Base));
        if (found.Count == 0 && replayFrom > 0)
        {
            throw new MessageLogCorruptionException($"The checkpoint starts recovery at position {replayFrom} but the commit log has no segments.");
        }

        if (found.Count == 0)
        {
            ILogFile file = fs.Create(SegmentPath(options.Directory, 0), options.SegmentSize);
            file.Flush();
            fs.SyncDirectory(options.Directory);
            return ([new Segment(0, options.SegmentSize, file)], 0, new CommitLogRecovery(1, 0, 0, 0));
        }

        var segments = new List<Segment>();
        long records = 0;
        long truncated = 0;
        long writeOffset = 0;
        byte[] window = new byte[ScanChunk];
        try
        {
            for (int i = 0; i < found.Count; i++)
            {
                bool last = i == found.Count - 1;
                ILogFile file = fs.Open(found[i].Path);
                long length = file.Length;
                var segment = new Segment(found[i].Base, length, file);
                segments.Add(segment);
                if (i > 0 && segments[i - 1].Base + segments[i - 1].Length != segment.Base)
                {
                    throw new MessageLogCorruptionException($"Segment {found[i - 1].Path} is shorter than its successor's position implies.");
                }

                if (i == 0 && segment.Base > replayFrom)
                {
                    throw new MessageLogCorruptionException($"The commit log starts at {segment.Base}, after the checkpoint's recovery position {replayFrom}.");
                }

                if (!last && segment.Base + segment.Length <= replayFrom)
                {
                    continue;   // before the checkpoint: sealed, fsynced, indexed already
                }

                long scanFrom = Math.Max(0, replayFrom - segment.Base);
                if (scanFrom > segment.Length)
                {
                    throw new MessageLogCorruptionException($"The checkpoint's recovery position {replayFrom} is beyond the end of the commit log.");
                }

                (long end, long count, bool clean) = ScanSegment(segment, scanFrom, ref window, listener);
                records += count;
                if (!clean && !last)
                {
                    throw new MessageLogCorruptionException(
                        $"Invalid record at position {segment.Base + end} in sealed segment {found[i].Path}; refusing to drop the segments after it.");
                }

                if (last)
                {
                    writeOffset = end;
                    truncated = ZeroTail(segment, end, window);
                    if (length < options.SegmentSize)
                    {
                        // A crash during creation (or an external truncation) left it short.
                        file.SetLength(options.SegmentSize);
                        segments[i] = segment = new Segment(segment.Base, options.SegmentSize, file);
                    }

                    file.Flush();
                }
            }
        }
        catch
        {
            foreach (Segment s in segments)
            {
                s.File.Dispose();
            }

            throw;
        }

        Segment[] result = [.. segments];
        return (result, writeOffset, new CommitLogRecovery(result.Length, records, result[^1].Base + writeOffset, truncated));
    }

    /// <summary>Validates the records of one segment in order; returns where valid data ends and whether it ended cleanly.</summary>
    private static (long End, long Records, bool Clean) ScanSegment(Segment segment, long from, ref byte[] window, ICommitLogListener? listener)
    {
        long windowStart = 0;
        int windowLength = 0;
        long offset = from;
        long count = 0;

        // The records of an atomic batch seen so far, replayed only once its last record is found intact.
        long batchStart = -1;
        var batch = new List<(long Position, int Length, RecordKind Kind, LogMessage Header)>();
        while (segment.Length - offset >= RecordFormat.HeaderSize)
        {
            if (!Ensure(segment, ref window, ref windowStart, ref windowLength, offset, RecordFormat.HeaderSize))
            {
                break;   // file shorter than its length claims: treat as end
            }

            ReadOnlySpan<byte> header = window.AsSpan((int)(offset - windowStart), RecordFormat.HeaderSize);
            int length = RecordFormat.ReadLength(header, segment.Base + offset, segment.Length - offset);
            if (length == 0)
            {
                break;
            }

            if (length < 0 || !Ensure(segment, ref window, ref windowStart, ref windowLength, offset, length)
                || !RecordFormat.IsValid(window.AsSpan((int)(offset - windowStart), length), segment.Base + offset))
            {
                // A torn batch goes as a whole: valid data ends where the batch began.
                return batchStart >= 0 ? (batchStart, count, false) : (offset, count, false);
            }

            ReadOnlySpan<byte> record = window.AsSpan((int)(offset - windowStart), length);
            (RecordKind kind, LogMessage recordHeader) = listener is not null ? RecordFormat.DecodeHeader(record) : (RecordKind.Message, null!);
            if (RecordFormat.ContinuesBatch(record) || batchStart >= 0)
            {
                batchStart = batchStart >= 0 ? batchStart : offset;
                batch.Add((segment.Base + offset, length, kind, recordHeader));
                offset += length;
                if (RecordFormat.ContinuesBatch(record))
                {
                    continue;
                }

                // The batch's last record is intact: the whole batch is.
                foreach ((long position, int recordLength, RecordKind recordKind, LogMessage h) in batch)
                {
                    listener?.OnRecovered(position, recordLength, recordKind, h);
                }

                count += batch.Count;
                batch.Clear();
                batchStart = -1;
                continue;
            }

            listener?.OnRecovered(segment.Base + offset, length, kind, recordHeader);
            count++;
            offset += length;
        }

        // Data ended inside a batch (its last record never reached the disk): drop the batch, and call it unclean.
        return batchStart >= 0 ? (batchStart, count, false) : (offset, count, true);
    }

    private static bool Ensure(Segment segment, ref byte[] window, ref long windowStart, ref int windowLength, long offset, int count)
    {
        if (offset >= windowStart && offset + count <= windowStart + windowLength)
        {
            return true;
        }

        if (window.Length < count)
        {
            window = new byte[count];
        }

        int want = (int)Math.Min(window.Length, segment.Length - offset);
        windowStart = offset;
        windowLength = segment.File.Read(offset, window.AsSpan(0, want));
        return windowLength >= count;
    }

    /// <summary>Zeroes any non-zero bytes after the last valid record (a torn or corrupt tail); returns how many bytes it cleared.</summary>
    private static long ZeroTail(Segment segment, long end, byte[] scratch)
    {
        long lastNonZero = -1;
        for (long at = end; at < segment.Length;)
        {
            int n = segment.File.Read(at, scratch.AsSpan(0, (int)Math.Min(scratch.Length, segment.Length - at)));
            if (n == 0)
            {
                break;
            }

            int i = scratch.AsSpan(0, n).LastIndexOfAnyExcept((byte)0);
            if (i >= 0)
            {
                lastNonZero = at + i;
            }

            at += n;
        }

        if (lastNonZero < 0)
        {
            return 0;
        }

        Array.Clear(scratch);
        for (long at = end; at <= lastNonZero;)
        {
            int n = (int)Math.Min(scratch.Length, lastNonZero + 1 - at);
            segment.File.Write(at, scratch.AsSpan(0, n));
            at += n;
        }

        return lastNonZero + 1 - end;
    }

    private sealed record Segment(long Base, long Length, ILogFile File);

    private sealed class PendingAppend : TaskCompletionSource<AppendResult>
    {
        private static readonly LogMessage NoMessage = new(default, default, 0, []);

        public PendingAppend(LogMessage message, RecordKind kind, int length)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Message = message;
            Kind = kind;
            Length = length;
        }

        /// <summary>An atomic batch of message records (see <see cref="AppendBatchAsync"/>); <paramref name="length"/> is their sum.</summary>
        public PendingAppend(IReadOnlyList<LogMessage> batch, int[] lengths, int length)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Message = NoMessage;
            Kind = RecordKind.Message;
            Batch = batch;
            Lengths = lengths;
            Length = length;
        }

        /// <summary>A unit of work for the writer thread instead of a record (see <see cref="RunOnWriterAsync"/>).</summary>
        public PendingAppend(Action<long> barrier)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Message = NoMessage;
            Barrier = barrier;
        }

        public LogMessage Message { get; }

        public RecordKind Kind { get; }

        public int Length { get; }

        public Action<long>? Barrier { get; }

        /// <summary>The messages of an atomic batch, or null for a single record.</summary>
        public IReadOnlyList<LogMessage>? Batch { get; }

        /// <summary>Each batch record's length.</summary>
        public int[]? Lengths { get; }

        /// <summary>Each batch message's result, set on the writer thread before the task completes.</summary>
        public AppendResult[]? BatchResults { get; set; }

        public void Complete(AppendResult result) => TrySetResult(result);

        public void Fail(Exception error) => TrySetException(error);
    }
}
