using Gateway.Log;
using MetaService.Contracts;

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
/// Expiry follows the whole queue's head, not each level's: a sweep drops expired messages from the highest
/// level's head, moves to the next level only once a level is empty, and stops at the first live message
/// (rabbit_priority_queue's dropwhile runs through the priorities the same way). So a message with a short
/// expiration waits behind a live message of a higher priority, as it would behind an older one in a FIFO
/// queue (checked on RabbitMQ 3.10.8). The levels ask for these sweeps instead of running their own.
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
    private readonly TimeProvider _time;
    private readonly QueueMessages[] _levels;   // index: the priority level
    private readonly ExpirySweeps _sweeps;
    private volatile bool _expiringMessagesSeen;
    private volatile bool _disposed;
    private volatile QueueArguments _arguments;

    public PriorityQueueMessages(
        IMessageLog log,
        string topic,
        QueueIdentity queue,
        QueueArguments arguments,
        IMessageFormat? format,
        DeadLetterPublisher deadLetters,
        TimeProvider time,
        GradedRedelivery? gradedRedelivery = null)
    {
        byte maxPriority = arguments.MaxPriority ?? throw new ArgumentException("A priority queue needs x-max-priority.", nameof(arguments));
        _log = log;
        _deadLetters = deadLetters;
        _time = time;
        _sweeps = new ExpirySweeps(time, Sweep);
        Queue = queue;
        _arguments = arguments;

        // The levels do not enforce x-max-length(-bytes) on their own: the limit is the whole queue's. They
        // count their bytes for it, though.
        QueueArguments levelArguments = arguments with { MaxLength = null };
        IReadOnlyList<string> topics = LevelTopics(topic, maxPriority);
        _levels = new QueueMessages[topics.Count];
        for (int level = 0; level < _levels.Length; level++)
        {
            _levels[level] = new QueueMessages(log, topics[level], queue, levelArguments, format, deadLetters, time, gradedRedelivery)
            {
                SweepRequested = ScheduleSweep,
                EnforcesLengthLimit = false,
            };
        }
    }

    public QueueIdentity Queue { get; }

    /// <summary>The queue's arguments with what its policy adds (see <see cref="QueueMessages.Arguments"/>).</summary>
    public QueueArguments Arguments => _arguments;

    private long ReadyBodyBytes
    {
        get
        {
            long bytes = 0;
            foreach (QueueMessages level in _levels)
            {
                bytes += level.ReadyBodyBytes;
            }

            return bytes;
        }
    }

    /// <summary>The levels share the queue's policy.</summary>
    public GradedRedeliveryPolicy? RedeliveryPolicy => _levels[0].RedeliveryPolicy;

    public void ApplyPolicy(PolicyRecord? policy)
    {
        foreach (QueueMessages level in _levels)
        {
            level.ApplyPolicy(policy);
        }

        // The levels' arguments differ from the queue's only in x-max-length; the policy's additions are the same.
        _arguments = _levels[0].Arguments with { MaxLength = _arguments.MaxLength };
    }

    public long Purge()
    {
        long purged = 0;
        foreach (QueueMessages level in _levels)
        {
            purged += level.Purge();
        }

        return purged;
    }

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

    public bool Return(long offset) => Level(offset, out long levelOffset) is { } level && level.Return(levelOffset);

    public bool AcceptsPublish(long bodyBytes = 0, int alreadyAccepted = 0, long alreadyAcceptedBytes = 0) =>
        !Arguments.RefusesWhenFull || Arguments.Accepts(Ready, ReadyBodyBytes, bodyBytes, alreadyAccepted, alreadyAcceptedBytes);

    private bool MayExpire => Arguments.HasMessageTtl || _expiringMessagesSeen;

    /// <summary>
    /// Messages were appended to some levels: x-max-length drop-head trims the whole queue, and an expiry
    /// sweep is queued unless the timer is already set for the head. Without TTL, expiring messages and
    /// drop-head nothing is done here.
    /// </summary>
    public void Appended(bool withExpiration)
    {
        foreach (QueueMessages level in _levels)
        {
            level.CountAppendedBytes();   // the byte count of the levels with new messages, before the limits are checked
        }

        if (Arguments is { HasLengthLimit: true, Overflow: QueueOverflow.DropHead })
        {
            DropHeadBeyondLimits();
        }

        if (withExpiration && !_expiringMessagesSeen)
        {
            // The first message with its own expiration: from now on every level checks what it hands out.
            _expiringMessagesSeen = true;
            foreach (QueueMessages level in _levels)
            {
                level.Appended(withExpiration: true);
            }
        }

        if (MayExpire && !_sweeps.TimerSet)
        {
            ScheduleSweep();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _sweeps.Dispose();

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
    /// x-overflow drop-head across levels: while the queue is over x-max-length or x-max-length-bytes, the
    /// next message to be delivered (the head of the highest non-empty level) leaves, dead-lettered with reason maxlen.
    /// </summary>
    private void DropHeadBeyondLimits()
    {
        while (true)
        {
            QueueArguments arguments = Arguments;
            long toDrop = arguments.ToDropFromHead(Ready, ReadyBodyBytes);
            if (toDrop <= 0)
            {
                return;
            }

            bool droppedAny = false;
            for (int level = _levels.Length - 1; level >= 0 && toDrop > 0; level--)
            {
                IReadOnlyList<TakenMessage> dropped = _levels[level].TakeReadyWhile((int)Math.Min(toDrop, DropBatch), _ => true);
                foreach (TakenMessage message in dropped)
                {
                    _deadLetters.DeadLetter(Queue, arguments, message.Message, DeadLetterReason.MaxLength);
                }

                toDrop -= dropped.Count;
                droppedAny |= dropped.Count > 0;
            }

            if (!droppedAny)
            {
                return;
            }
        }
    }

    private void ScheduleSweep()
    {
        if (MayExpire)
        {
            _sweeps.Request();
        }
    }

    /// <summary>
    /// Drops expired messages from the queue's head in delivery order: a level's head, and the next level only
    /// once this one is empty; returns when the first live message expires (the timer is set for it).
    /// </summary>
    private long Sweep()
    {
        try
        {
            long nextDue = long.MaxValue;
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            for (int index = _levels.Length - 1; index >= 0 && !_disposed; index--)
            {
                QueueMessages level = _levels[index];
                bool liveHead = false;
                IReadOnlyList<TakenMessage> expired;
                do
                {
                    expired = level.TakeReadyWhile(DropBatch, message =>
                    {
                        long due = level.ExpiresAt(message);
                        if (due <= now)
                        {
                            return true;
                        }

                        nextDue = due;
                        liveHead = true;
                        return false;
                    });
                    foreach (TakenMessage message in expired)
                    {
                        _deadLetters.DeadLetter(Queue, Arguments, message.Message, DeadLetterReason.Expired);
                    }
                }
                while (expired.Count == DropBatch && !liveHead && !_disposed);

                if (liveHead)
                {
                    break;   // the queue's head is live: what lies below it waits, as in a FIFO queue
                }
            }

            return nextDue;
        }
        catch (Exception) when (_disposed || !_log.TopicExists(_levels[0].Topic))
        {
            // The queue went away under the sweep.
            return long.MaxValue;
        }
        catch (Exception ex)
        {
            // Runs on the thread pool, where an exception would end the process; the next append or requeue sweeps again.
            _deadLetters.ReportFailure(Queue.Name, ex);
            return long.MaxValue;
        }
    }
}
