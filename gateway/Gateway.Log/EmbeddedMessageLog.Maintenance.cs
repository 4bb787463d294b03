using Gateway.Log.Checkpoint;
using Gateway.Log.Index;

namespace Gateway.Log;

/// <summary>What one maintenance pass did.</summary>
/// <param name="ReplayFrom">The commit-log position the new checkpoint lets recovery start from.</param>
/// <param name="TopicsWithNewEntries">Topics whose index files were written and fsynced.</param>
/// <param name="SegmentsReclaimed">Commit-log segment files deleted.</param>
/// <param name="ReclaimableFrom">Every record below this position is needed by no topic.</param>
public sealed record MaintenanceReport(long ReplayFrom, int TopicsWithNewEntries, int SegmentsReclaimed, long ReclaimableFrom);

public sealed partial class EmbeddedMessageLog
{
    private readonly SemaphoreSlim _maintenance = new(1, 1);

    /// <summary>
    /// One pass of retention, checkpoint and reclamation (the background loop runs it every
    /// <see cref="MessageLogOptions.MaintenanceInterval"/>):
    /// <list type="number">
    /// <item>each topic's start moves up to what its retention allows, never past its first unsettled offset unless the policy discards;</item>
    /// <item>a checkpoint: the indexes' state as of a log position P (captured on the writer thread),
    /// their files fsynced, the consumption state snapshotted after the state journal moved to a new
    /// generation, all written atomically; older journal generations, deleted topics' index files and
    /// chunk files below each start are then deleted;</item>
    /// <item>commit-log segments wholly below both P and the first record any topic still needs are deleted.</item>
    /// </list>
    /// </summary>
    public async Task<MaintenanceReport> RunMaintenanceAsync(CancellationToken cancellationToken = default)
    {
        await _maintenance.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ApplyRetention();
            (long replayFrom, int written, long needed) = await CheckpointAsync(cancellationToken).ConfigureAwait(false);
            long reclaimBelow = Math.Min(replayFrom, needed);
            int reclaimed = await _log.ReclaimSegmentsBelowAsync(reclaimBelow, cancellationToken).ConfigureAwait(false);
            return new MaintenanceReport(replayFrom, written, reclaimed, needed);
        }
        finally
        {
            _maintenance.Release();
        }
    }

    private void ApplyRetention()
    {
        long now = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (Topic topic in _topics.Values)
        {
            long newStart = RetainedStart(topic, now);
            if (topic.Retention.DiscardUnsettled)
            {
                topic.Consumption.DiscardBelow(newStart);
            }

            topic.Index.AdvanceStart(newStart);
        }
    }

    /// <summary>Where <paramref name="topic"/>'s retained range may start now (see <see cref="TopicRetention"/>).</summary>
    private static long RetainedStart(Topic topic, long now)
    {
        TopicIndex index = topic.Index;
        TopicRetention retention = topic.Retention;
        long count = index.Count;
        long start = index.Start;
        long watermark = Math.Min(topic.Consumption.Watermark, count);

        // Limits only matter up to the first unsettled offset unless they may drop unsettled messages.
        long walkLimit = retention.DiscardUnsettled ? count : watermark;
        long limitStart = start;
        if (retention.MaxAge is { } maxAge)
        {
            limitStart = Math.Min(walkLimit, Math.Max(limitStart, index.SeekByTimestamp(now - (long)maxAge.TotalMilliseconds)));
        }

        if (retention.MaxBytes is { } maxBytes)
        {
            long retained = index.RetainedBytes;
            long dropped = 0;
            long offset = start;
            while (offset < walkLimit && (offset < limitStart || retained - dropped > maxBytes) && index.TryGet(offset, out IndexEntry entry))
            {
                dropped += entry.Size;
                offset++;
            }

            limitStart = Math.Max(limitStart, offset);
        }

        long keepFrom = retention.KeepSettled ? limitStart : count;
        long newStart = Math.Min(keepFrom, watermark);
        return retention.DiscardUnsettled ? Math.Max(newStart, limitStart) : newStart;
    }

    private async Task<(long ReplayFrom, int Written, long Needed)> CheckpointAsync(CancellationToken cancellationToken)
    {
        // 1. On the writer thread: every index exactly as of P, and the topics deleted before P.
        var pending = new List<(Topic Topic, PendingIndexWrite Write, long Start, long Bytes, long LastTimestamp)>();
        List<TopicIndex> deleted = [];
        long replayFrom = await _log.RunOnWriterAsync(
            _ =>
            {
                foreach (Topic topic in _topics.Values)
                {
                    topic.Index.ReleaseIdleTail();
                    pending.Add((topic, topic.Index.CapturePending(), topic.Index.Start, topic.Index.RetainedBytes, topic.Index.LastTimestamp));
                }

                lock (_deletedLock)
                {
                    (deleted, _deletedSinceCheckpoint) = (_deletedSinceCheckpoint, deleted);
                }
            },
            cancellationToken).ConfigureAwait(false);

        try
        {
            // 2. Index files durable up to each captured count.
            int written = 0;
            foreach ((Topic topic, PendingIndexWrite write, _, _, _) in pending)
            {
                if (write.ChunkCount > 0)
                {
                    topic.Index.Persist(write);
                    written++;
                }
            }

            // 3. Consumption state: journal to a new generation first, so the snapshot covers every older record.
            long generation = _journal.Rotate();
            var topics = new List<TopicCheckpoint>(pending.Count);
            long needed = replayFrom;
            foreach ((Topic topic, PendingIndexWrite write, long start, long bytes, long lastTimestamp) in pending)
            {
                long startAtP = Math.Min(start, write.Count);
                topics.Add(new TopicCheckpoint(
                    topic.Index.Id, topic.Index.Name, write.Count, startAtP, bytes, lastTimestamp, topic.Retention, topic.Consumption.Snapshot()));
                if (startAtP < write.Count && topic.Index.TryPeek(startAtP, out IndexEntry first))
                {
                    needed = Math.Min(needed, first.Position);
                }
            }

            CheckpointFile.Write(_logOptions.Directory, new CheckpointData(replayFrom, generation, topics), _logOptions.FileSystem.SyncDirectory);

            // 4. What the new checkpoint supersedes.
            foreach ((Topic topic, PendingIndexWrite write, long start, _, _) in pending)
            {
                topic.Index.MarkPersisted(write);
                foreach (string file in topic.Index.FilesBelow(Math.Min(start, write.Count)))
                {
                    File.Delete(file);
                }
            }

            _journal.DeleteGenerationsBelow(generation);
            foreach (TopicIndex index in deleted)
            {
                if (Directory.Exists(index.Directory))
                {
                    Directory.Delete(index.Directory, recursive: true);
                }
            }

            deleted.Clear();
            return (replayFrom, written, needed);
        }
        finally
        {
            if (deleted.Count > 0)
            {
                // The checkpoint failed: those directories are still referenced by the previous one.
                lock (_deletedLock)
                {
                    _deletedSinceCheckpoint.AddRange(deleted);
                }
            }
        }
    }

    private async Task BackgroundLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.StateFlushInterval, _options.TimeProvider);
        long lastMaintenance = _options.TimeProvider.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    _journal.Flush();
                    if (_options.MaintenanceInterval is { } interval && _options.TimeProvider.GetElapsedTime(lastMaintenance) >= interval)
                    {
                        lastMaintenance = _options.TimeProvider.GetTimestamp();
                        await RunMaintenanceAsync(_stop.Token).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // Disk trouble: settles stay buffered and the checkpoint is retried next time; appends report their own failures.
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposing.
        }
    }
}
