using Gateway.Log;

namespace Gateway.Broker.Queues;

/// <summary>
/// A priority queue (x-max-priority N, rabbitmq.com/priority): one log topic per priority level 0..N, each
/// with its own <see cref="QueueMessages"/> (so message TTL, expiry timers and dead-lettering work per level
/// as they do for any queue), taken from the highest level that has ready messages first. Within a level
/// the log's order holds: FIFO, requeued messages first at their original place. This is what RabbitMQ's
/// rabbit_priority_queue does with one backing queue per priority.
/// </summary>
/// <remarks>
/// <para>
/// The offsets handed to the dispatcher carry the level in their low <see cref="LevelBits"/> bits, so a
/// settle, reject or requeue reaches the level's topic; a topic's own offsets then have 55 bits, far more
/// than a topic can hold. Level 0 is the queue's own topic, so a queue's record and its level-0 messages
/// look as they would without priorities.
/// </para>
/// <para>
/// The queue is still one queue: <see cref="Ready"/>, purge, delete and x-max-length count every level.
/// x-max-length is enforced here across levels, not by the levels: drop-head drops the message that would
/// be delivered next, the head of the highest non-empty level (RabbitMQ's drop-head fetches from the
/// queue, so a full priority queue loses its most urgent message; checked on RabbitMQ 3.10.8).
/// </para>
/// </remarks>
public sealed class PriorityQueueMessages : IQueueMessages, IDisposable
{
    /// <summary>Bits of an offset handed to the dispatcher that name the level (0..255).</summary>
    public const int LevelBits = 8;

    private const long LevelMask = (1L << LevelBits) - 1;
    private const int DropBatch = 256;

    private readonly IMessageLog _log;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly QueueMessages[] _levels;   // index: the priority level

    public PriorityQueueMessages(
        IMessageLog log, string topic, QueueIdentity queue, QueueArguments arguments, IMessageFormat? format, DeadLetterPublisher deadLetters, TimeProvider time)
    {
        byte maxPriority = arguments.MaxPriority ?? throw new ArgumentException("A priority queue needs x-max-priority.", nameof(arguments));
        _log = log;
        _deadLetters = deadLetters;
        Queue = queue;
        Arguments = arguments;

        // The levels do not enforce x-max-length on their own: the limit is the whole queue's.
        QueueArguments levelArguments = arguments with { MaxLength = null };
        IReadOnlyList<string> topics = LevelTopics(topic, maxPriority);
        _levels = new QueueMessages[topics.Count];
        for (int level = 0; level < _levels.Length; level++)
        {
            _levels[level] = new QueueMessages(log, topics[level], queue, levelArguments, format, deadLetters, time);
        }
    }

    public QueueIdentity Queue { get; }

    public QueueArguments Arguments { get; }

    /// <summary>The highest level; a message with a higher priority property is enqueued at it (rabbit_priority_queue caps it likewise).</summary>
    public byte MaxPriority => (byte)(_levels.Length - 1);

    public long Ready
    {
        get
        {
            long ready = 0;
            foreach (QueueMessages level in _levels)
            {
                ready += level.Ready;
            }

            return ready;
        }
    }

    /// <summary>
    /// The log topics of a queue on <paramref name="topic"/> with x-max-priority <paramref name="maxPriority"/>:
    /// <paramref name="topic"/> itself for level 0, then one per level up to the maximum. Created with the
    /// queue, deleted with it.
    /// </summary>
    public static IReadOnlyList<string> LevelTopics(string topic, byte maxPriority)
    {
        var topics = new string[maxPriority + 1];
        topics[0] = topic;
        for (int level = 1; level <= maxPriority; level++)
        {
            topics[level] = $"{topic}.priority-{level}";
        }

        return topics;
    }

    /// <summary>The topic a message with <paramref name="priority"/> (its basic property; 0 when absent) is appended to.</summary>
    public string TopicFor(byte priority) => _levels[Math.Min(priority, MaxPriority)].Topic;

    public IReadOnlyList<TakenMessage> Take(int maxCount)
    {
        List<TakenMessage>? taken = null;
        for (int level = _levels.Length - 1; level >= 0; level--)
        {
            int wanted = maxCount - (taken?.Count ?? 0);
            if (wanted <= 0)
            {
                break;
            }

            IReadOnlyList<TakenMessage> fromLevel = _levels[level].Take(wanted);
            if (fromLevel.Count == 0)
            {
                continue;
            }

            taken ??= new List<TakenMessage>(Math.Min(maxCount, fromLevel.Count * 2));
            foreach (TakenMessage message in fromLevel)
            {
                taken.Add(message with { Message = message.Message with { Offset = Encode(message.Message.Offset, level) } });
            }
        }

        return taken ?? (IReadOnlyList<TakenMessage>)[];
    }

    public bool Settle(long offset) => Level(offset, out long levelOffset) is { } level && level.Settle(levelOffset);

    public bool Reject(long offset) => Level(offset, out long levelOffset) is { } level && level.Reject(levelOffset);

    public bool Requeue(long offset) => Level(offset, out long levelOffset) is { } level && level.Requeue(levelOffset);

    public bool AcceptsPublish() =>
        Arguments.Overflow == QueueOverflow.DropHead || Arguments.MaxLength is not { } max || Ready < max;

    /// <summary>
    /// Messages were appended to some levels. x-max-length drop-head trims the whole queue; then every level
    /// holding messages is told, so the one that got the message starts its expiry timer. Without TTL,
    /// expiring messages and drop-head there is nothing to do, and nothing is counted.
    /// </summary>
    public void Appended(bool withExpiration)
    {
        if (Arguments is { MaxLength: { } maxLength, Overflow: QueueOverflow.DropHead })
        {
            DropHeadBeyond(maxLength);
        }

        if (!withExpiration && !Arguments.HasMessageTtl)
        {
            return;
        }

        foreach (QueueMessages level in _levels)
        {
            // An empty level did not get the message; telling it would only queue a sweep that finds nothing.
            if (level.Ready > 0)
            {
                level.Appended(withExpiration);
            }
        }
    }

    public void Dispose()
    {
        foreach (QueueMessages level in _levels)
        {
            level.Dispose();
        }
    }

    private static long Encode(long levelOffset, int level) => (levelOffset << LevelBits) | (long)level;

    private QueueMessages? Level(long offset, out long levelOffset)
    {
        levelOffset = offset >> LevelBits;
        long level = offset & LevelMask;
        return offset >= 0 && level < _levels.Length ? _levels[level] : null;
    }

    /// <summary>
    /// x-overflow drop-head across levels: while more than <paramref name="maxLength"/> messages are ready, the
    /// next one to be delivered (the head of the highest non-empty level) leaves, dead-lettered with reason maxlen.
    /// </summary>
    private void DropHeadBeyond(long maxLength)
    {
        long excess;
        while ((excess = Ready - maxLength) > 0)
        {
            bool droppedAny = false;
            for (int level = _levels.Length - 1; level >= 0 && excess > 0; level--)
            {
                IReadOnlyList<TakenMessage> dropped = _log.TakeReadyWhile(_levels[level].Topic, (int)Math.Min(excess, DropBatch), _ => true);
                foreach (TakenMessage message in dropped)
                {
                    _deadLetters.DeadLetter(Queue, Arguments, message.Message, DeadLetterReason.MaxLength);
                }

                excess -= dropped.Count;
                droppedAny |= dropped.Count > 0;
            }

            if (!droppedAny)
            {
                return;
            }
        }
    }
}
