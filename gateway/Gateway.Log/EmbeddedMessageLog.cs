using System.Collections.Concurrent;
using Gateway.Log.Commit;
using Gateway.Log.Index;

namespace Gateway.Log;

/// <summary>
/// The embedded <see cref="IMessageLog"/>: one <see cref="CommitLog"/> holding every message
/// once, plus an in-memory <see cref="TopicIndex"/> per topic rebuilt by the commit log's
/// recovery scan when opened (one pass, no body copies). Topic creation and deletion are records in the same commit log, so replaying it in
/// order restores the topic set and every topic's offsets exactly. See docs/log-engine.md.
/// </summary>
public sealed class EmbeddedMessageLog : IMessageLog, ICommitLogListener
{
    private static readonly IReadOnlyList<long> Created = [1];
    private static readonly IReadOnlyList<long> NotCreated = [0];

    private readonly ConcurrentDictionary<string, TopicIndex> _topics = new(StringComparer.Ordinal);
    private CommitLog _log = null!;

    private EmbeddedMessageLog()
    {
    }

    /// <summary>The underlying commit log (recovery report, positions).</summary>
    public CommitLog CommitLog => _log;

    /// <summary>Opens or creates the log, recovering the commit log and rebuilding every topic index from it.</summary>
    public static EmbeddedMessageLog Open(CommitLogOptions options)
    {
        var log = new EmbeddedMessageLog();
        log._log = CommitLog.Open(options, log);   // the recovery scan replays every record into the indexes
        return log;
    }

    public bool TopicExists(string topic) => _topics.ContainsKey(topic);

    public long EndOffset(string topic) => Get(topic).Count;

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

        return _log.AppendRecordAsync(message, RecordKind.Message, cancellationToken);
    }

    public IReadOnlyList<StoredMessage> Read(string topic, long fromOffset, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        TopicIndex index = Get(topic);
        var result = new List<StoredMessage>((int)Math.Clamp(index.Count - fromOffset, 0, maxCount));
        for (long offset = fromOffset; result.Count < maxCount && index.TryGet(offset, out IndexEntry entry); offset++)
        {
            CommitLogRecord record = _log.Read(entry.Position);
            result.Add(new StoredMessage(topic, offset, record.Position, record.Timestamp, record.RoutingKeyHash, record.Properties, record.Body));
        }

        return result;
    }

    /// <summary>Bytes held by the index chunks of <paramref name="topic"/> (memory measurement).</summary>
    internal long IndexBytes(string topic) => Get(topic).AllocatedBytes;

    public ValueTask DisposeAsync() => _log.DisposeAsync();

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
                return _topics.TryAdd(message.Topics[0], new TopicIndex(message.Topics[0])) ? Created : NotCreated;
            case RecordKind.TopicDeleted:
                return _topics.TryRemove(message.Topics[0], out _) ? Created : NotCreated;
            default:
                var offsets = new long[message.Topics.Count];
                var entry = new IndexEntry(position, length, message.RoutingKeyHash, message.Timestamp);
                for (int i = 0; i < offsets.Length; i++)
                {
                    // A topic deleted between the append's check and its turn in the log does not get the message.
                    offsets[i] = _topics.TryGetValue(message.Topics[i], out TopicIndex? index) ? index.Append(entry) : -1;
                }

                return offsets;
        }
    }

    private TopicIndex Get(string topic) =>
        _topics.TryGetValue(topic, out TopicIndex? index) ? index : throw new KeyNotFoundException($"Topic '{topic}' does not exist.");

    private static LogMessage Control(string topic) =>
        new(default, default, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [topic]);
}
