using System.Collections.Concurrent;
using Gateway.Log.Checkpoint;
using Gateway.Log.Commit;
using Gateway.Log.Consumption;
using Gateway.Log.Index;

namespace Gateway.Log;

/// <summary>
/// The embedded <see cref="IMessageLog"/>: one <see cref="CommitLog"/> holding every message once,
/// a <see cref="TopicIndex"/> per topic (chunk files plus a bounded in-memory cache), a
/// <see cref="TopicConsumption"/> per topic journaled by a <see cref="StateJournal"/>, and periodic
/// checkpoints that let recovery replay only the log written since, and let retention reclaim
/// segments. Topic creation and deletion are records in the commit log, so replaying it in order
/// restores the topic set and every topic's offsets exactly. See docs/log-engine.md.
/// </summary>
public sealed partial class EmbeddedMessageLog : IMessageLog, ICommitLogListener
{
    private static readonly IReadOnlyList<long> Created = [1];
    private static readonly IReadOnlyList<long> NotCreated = [0];

    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly CommitLogOptions _logOptions;
    private readonly MessageLogOptions _options;
    private readonly IndexChunkCache _cache;
    private readonly StateJournal _journal;
    private readonly string _indexDirectory;
    private readonly Lock _deletedLock = new();
    private readonly CancellationTokenSource _stop = new();
    private List<TopicIndex> _deletedSinceCheckpoint = [];
    private CommitLog _log = null!;
    private Task _background = Task.CompletedTask;
    private int _disposed;

    private EmbeddedMessageLog(CommitLogOptions logOptions, MessageLogOptions options, long journalGeneration)
    {
        _logOptions = logOptions;
        _options = options;
        _cache = new IndexChunkCache(options.IndexCacheBytes);
        _indexDirectory = Path.Combine(logOptions.Directory, "index");
        _journal = new StateJournal(logOptions.Directory, journalGeneration);
    }

    /// <summary>The underlying commit log (recovery report, positions).</summary>
    public CommitLog CommitLog => _log;

    /// <summary>Bytes of sealed index chunks held in memory across all topics.</summary>
    public long IndexCacheResidentBytes => _cache.ResidentBytes;

    /// <summary>Opens or creates the log with default engine settings.</summary>
    public static EmbeddedMessageLog Open(CommitLogOptions options) => Open(options, new MessageLogOptions());

    /// <summary>
    /// Opens or creates the log: loads the last checkpoint, recovers the commit log and replays the
    /// records written after the checkpoint into the indexes, then replays the state journal.
    /// </summary>
    public static EmbeddedMessageLog Open(CommitLogOptions logOptions, MessageLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(logOptions);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(logOptions.Directory);
        CheckpointData? checkpoint = CheckpointFile.Read(logOptions.Directory);

        // New settles go to a generation after every existing file, never appended behind a torn record.
        long replayGeneration = checkpoint?.JournalGeneration ?? 0;
        var log = new EmbeddedMessageLog(logOptions, options, StateJournal.LatestGeneration(logOptions.Directory, replayGeneration) + 1);
        try
        {
            if (checkpoint is not null)
            {
                foreach (TopicCheckpoint saved in checkpoint.Topics)
                {
                    log.RestoreTopic(saved);
                }
            }

            log._log = CommitLog.Open(logOptions, log, checkpoint?.ReplayFrom ?? 0);
            log.ReplayJournal(replayGeneration);
        }
        catch
        {
            log._journal.Dispose();
            log._log?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        log._background = Task.Run(log.BackgroundLoopAsync);
        return log;
    }

    public bool TopicExists(string topic) => _topics.ContainsKey(topic);

    public long EndOffset(string topic) => Get(topic).Index.Count;

    public async ValueTask<bool> CreateTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (_topics.ContainsKey(topic))
        {
            return false;
        }

        AppendResult result = await _log.AppendRecordAsync(Control(topic), RecordKind.TopicCreated, cancellationToken).ConfigureAwait(false);
        return result.TopicOffsets[0] == 1;
    }

    public async ValueTask<bool> DeleteTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!_topics.ContainsKey(topic))
        {
            return false;
        }

        AppendResult result = await _log.AppendRecordAsync(Control(topic), RecordKind.TopicDeleted, cancellationToken).ConfigureAwait(false);
        return result.TopicOffsets[0] == 1;
    }

    public ValueTask<AppendResult> AppendAsync(LogMessage message, CancellationToken cancellationToken = default)
    {
        CheckDestinations(message);
        return _log.AppendRecordAsync(message, RecordKind.Message, cancellationToken);
    }

    public ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<LogMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (LogMessage message in messages)
        {
            CheckDestinations(message);
        }

        return _log.AppendBatchAsync(messages, cancellationToken);
    }

    /// <summary>Every destination topic exists and is listed once; <see cref="ArgumentException"/> otherwise.</summary>
    private void CheckDestinations(LogMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.Topics);
        for (int i = 0; i < message.Topics.Count; i++)
        {
            string topic = message.Topics[i];
            if (!_topics.ContainsKey(topic))
            {
                throw new ArgumentException($"Topic '{topic}' does not exist.", nameof(message));
            }

            for (int j = 0; j < i; j++)
            {
                if (string.Equals(message.Topics[j], topic, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Topic '{topic}' is listed twice.", nameof(message));
                }
            }
        }
    }

    public IReadOnlyList<StoredMessage> Read(string topic, long fromOffset, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        TopicIndex index = Get(topic).Index;
        long offset = Math.Max(fromOffset, index.Start);
        var result = new List<StoredMessage>((int)Math.Clamp(index.Count - offset, 0, maxCount));
        for (; result.Count < maxCount && index.TryGet(offset, out IndexEntry entry); offset++)
        {
            result.Add(ReadEntry(topic, offset, entry));
        }

        return result;
    }

    public IReadOnlyList<TakenMessage> TakeReady(string topic, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        Topic t = Get(topic);
        var taken = new List<TakenMessage>(Math.Min(maxCount, 256));
        while (taken.Count < maxCount && t.Consumption.TryTake(t.Index.Count, out long offset, out bool redelivered))
        {
            if (!t.Index.TryGet(offset, out IndexEntry entry))
            {
                // Discarded by a retention policy that allows it while this was being taken: gone, not deliverable.
                t.Consumption.Settle(offset);
                continue;
            }

            taken.Add(new TakenMessage(ReadEntry(topic, offset, entry), redelivered));
        }

        return taken;
    }

    public long ReadyBodyBytes(string topic)
    {
        Topic t = Get(topic);
        long bytes = 0;
        for (long offset = t.Consumption.Watermark, end = t.Index.Count; offset < end; offset++)
        {
            if (t.Consumption.IsReady(offset) && t.Index.TryGet(offset, out IndexEntry entry))
            {
                bytes += ReadEntry(topic, offset, entry).Body.Length;
            }
        }

        return bytes;
    }

    public IReadOnlyList<TakenMessage> TakeReadyWhile(string topic, int maxCount, Func<StoredMessage, bool> predicate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        ArgumentNullException.ThrowIfNull(predicate);
        Topic t = Get(topic);
        var taken = new List<TakenMessage>();
        StoredMessage? head = null;
        bool Accept(long offset)
        {
            // A message a retention policy dropped meanwhile is not accepted: TakeReady settles it.
            head = t.Index.TryGet(offset, out IndexEntry entry) ? ReadEntry(topic, offset, entry) : null;
            return head is not null && predicate(head);
        }

        while (taken.Count < maxCount && t.Consumption.TryTakeIf(t.Index.Count, Accept, out _, out bool redelivered))
        {
            taken.Add(new TakenMessage(head!, redelivered));
        }

        return taken;
    }

    public bool Settle(string topic, long offset) => Get(topic).Consumption.Settle(offset);

    public bool Requeue(string topic, long offset) => Get(topic).Consumption.Requeue(offset);

    public int Returns(string topic, long offset) => Get(topic).Consumption.Returns(offset);

    public long Purge(string topic)
    {
        Topic t = Get(topic);
        return t.Consumption.Purge(t.Index.Count);
    }

    public long ReadyCount(string topic)
    {
        Topic t = Get(topic);
        return t.Consumption.Ready(t.Index.Count);
    }

    public TopicStats GetStats(string topic)
    {
        Topic t = Get(topic);
        long end = t.Index.Count;
        return new TopicStats(t.Index.Start, end, t.Consumption.Ready(end), t.Consumption.InFlight, t.Consumption.Watermark, t.Index.RetainedBytes);
    }

    public long SeekByTimestamp(string topic, long timestamp) => Get(topic).Index.SeekByTimestamp(timestamp);

    public void SetRetention(string topic, TopicRetention retention)
    {
        ArgumentNullException.ThrowIfNull(retention);
        if (retention.MaxAge is { } age)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(age.Ticks, nameof(retention));
        }

        if (retention.MaxBytes is { } bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytes, nameof(retention));
        }

        Topic t = Get(topic);
        lock (t)
        {
            t.Retention = retention;
            _journal.Record(new JournalRecord(
                JournalRecordKind.Retention, t.Index.Id, (long?)retention.MaxAge?.TotalMilliseconds ?? -1, retention.MaxBytes ?? -1, CheckpointFile.Flags(retention)));
        }
    }

    /// <summary>Bytes of index arrays <paramref name="topic"/> holds in memory (measurements and tests).</summary>
    internal long IndexBytes(string topic) => Get(topic).Index.ResidentBytes;

    /// <summary>Writes buffered settles now (tests; normally every <see cref="MessageLogOptions.StateFlushInterval"/>).</summary>
    internal void FlushState() => _journal.Flush();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _background.ConfigureAwait(false);
        try
        {
            _journal.Flush();
            if (_options.CheckpointOnDispose)
            {
                await RunMaintenanceAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // Shutting down on a failing disk: the next open replays from the previous checkpoint.
        }
        finally
        {
            await _log.DisposeAsync().ConfigureAwait(false);
            _journal.Dispose();
            _stop.Dispose();
        }
    }

    IReadOnlyList<long> ICommitLogListener.OnAppended(long position, int length, RecordKind kind, LogMessage message) =>
        Apply(position, length, kind, message);

    void ICommitLogListener.OnRecovered(long position, int length, RecordKind kind, LogMessage header) =>
        Apply(position, length, kind, header);

    /// <summary>Applies one durable record to the topic set and indexes; the same code serves appends and replay, so both agree.</summary>
    private IReadOnlyList<long> Apply(long position, int length, RecordKind kind, LogMessage message)
    {
        switch (kind)
        {
            case RecordKind.TopicCreated:
                {
                    string name = message.Topics[0];
                    if (_topics.ContainsKey(name))
                    {
                        return NotCreated;
                    }

                    _topics[name] = NewTopic(position, name);
                    return Created;
                }

            case RecordKind.TopicDeleted:
                if (!_topics.TryRemove(message.Topics[0], out Topic? deleted))
                {
                    return NotCreated;
                }

                lock (_deletedLock)
                {
                    _deletedSinceCheckpoint.Add(deleted.Index);
                }

                return Created;
            default:
                var offsets = new long[message.Topics.Count];
                var entry = new IndexEntry(position, length, message.RoutingKeyHash, message.Timestamp);
                for (int i = 0; i < offsets.Length; i++)
                {
                    // A topic deleted between the append's check and its turn in the log does not get the message.
                    offsets[i] = _topics.TryGetValue(message.Topics[i], out Topic? topic) ? topic.Index.Append(entry) : -1;
                }

                return offsets;
        }
    }

    private StoredMessage ReadEntry(string topic, long offset, IndexEntry entry)
    {
        CommitLogRecord record = _log.Read(entry.Position);
        return new StoredMessage(topic, offset, record.Position, record.Timestamp, record.RoutingKeyHash, record.Properties, record.Body);
    }

    private Topic NewTopic(long id, string name) =>
        new(new TopicIndex(id, name, _indexDirectory, _cache),
            new TopicConsumption(id, _journal));

    private void RestoreTopic(TopicCheckpoint saved)
    {
        Topic topic = NewTopic(saved.Id, saved.Name);
        topic.Index.Restore(saved.Count, saved.Start, saved.RetainedBytes, saved.LastTimestamp);
        topic.Retention = saved.Retention;
        topic.Consumption.RestoreSettled(0, saved.Consumption.Watermark);
        foreach ((long start, long end) in saved.Consumption.Settled)
        {
            topic.Consumption.RestoreSettled(start, end);
        }

        topic.Consumption.RestoreCursor(saved.Consumption.Cursor);
        _topics[saved.Name] = topic;
    }

    private void ReplayJournal(long fromGeneration)
    {
        var byId = _topics.Values.ToDictionary(t => t.Index.Id);
        foreach (JournalRecord record in StateJournal.Replay(_logOptions.Directory, fromGeneration))
        {
            if (!byId.TryGetValue(record.Topic, out Topic? topic))
            {
                continue;   // deleted since
            }

            switch (record.Kind)
            {
                case JournalRecordKind.Settled:
                    topic.Consumption.RestoreSettled(record.A, record.B);
                    break;
                case JournalRecordKind.Cursor:
                    topic.Consumption.RestoreCursor(record.A);
                    break;
                case JournalRecordKind.Retention:
                    topic.Retention = CheckpointFile.FromJournal(record.A, record.B, record.C);
                    break;
            }
        }

        foreach (Topic topic in byId.Values)
        {
            topic.Consumption.ClampTo(topic.Index.Count);
        }
    }

    private Topic Get(string topic) =>
        _topics.TryGetValue(topic, out Topic? t) ? t : throw new KeyNotFoundException($"Topic '{topic}' does not exist.");

    private static LogMessage Control(string topic) =>
        new(default, default, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [topic]);

    /// <summary>A topic: its index, its queue consumption state, and its retention.</summary>
    private sealed class Topic(TopicIndex index, TopicConsumption consumption)
    {
        public TopicIndex Index { get; } = index;

        public TopicConsumption Consumption { get; } = consumption;

        public TopicRetention Retention { get; set; } = TopicRetention.None;
    }
}
