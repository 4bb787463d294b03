using Gateway.Broker.Delivery;
using Gateway.Log;

namespace Gateway.Broker.Queues;

/// <summary>
/// A queue's messages with RabbitMQ's per-queue behaviour on top of its log topic: message TTL
/// (x-message-ttl and each message's own expiration) and dead-lettering of rejected and expired
/// messages. Expired messages are never delivered: a burst or basic.get that takes one dead-letters
/// it instead, and a timer drops expired messages from the head of a queue nobody consumes, so the
/// counts in queue.declare-ok fall as RabbitMQ's do.
/// </summary>
/// <remarks>
/// As in RabbitMQ, only the head expires by timer: a message with a short expiration behind one
/// without expiry waits until it reaches the head (rabbitmq.com/ttl: per-message TTL). Requeued
/// messages keep their original publish time, so they may expire on their way back.
/// </remarks>
public sealed class QueueMessages : IQueueSource, IDisposable
{
    private const int ExpireBatch = 256;

    private readonly IMessageLog _log;
    private readonly IMessageFormat? _format;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly TimeProvider _time;
    private readonly Lock _timerLock = new();
    private ITimer? _timer;
    private long _timerDue = long.MaxValue;   // Unix ms the timer is set for; MaxValue: not set
    private volatile bool _expiringMessagesSeen;
    private int _sweepRequests;   // sweeps asked for since the running one started; the first one queues it
    private volatile bool _disposed;

    public QueueMessages(
        IMessageLog log, string topic, QueueIdentity queue, QueueArguments arguments, IMessageFormat? format, DeadLetterPublisher deadLetters, TimeProvider time)
    {
        _log = log;
        Topic = topic;
        Queue = queue;
        Arguments = arguments;
        _format = format;
        _deadLetters = deadLetters;
        _time = time;
    }

    public string Topic { get; }

    public QueueIdentity Queue { get; }

    public QueueArguments Arguments { get; }

    public long Ready => _log.ReadyCount(Topic);

    private bool MayExpire => Arguments.HasMessageTtl || _expiringMessagesSeen;

    public IReadOnlyList<TakenMessage> Take(int maxCount)
    {
        IReadOnlyList<TakenMessage> taken = _log.TakeReady(Topic, maxCount);
        if (!MayExpire || taken.Count == 0)
        {
            return taken;
        }

        var live = new List<TakenMessage>(taken.Count);
        while (true)
        {
            bool expiredAny = false;
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (TakenMessage message in taken)
            {
                if (ExpiresAt(message.Message) <= now)
                {
                    _deadLetters.DeadLetter(Queue, Arguments, message.Message, DeadLetterReason.Expired);
                    expiredAny = true;
                }
                else
                {
                    live.Add(message);
                }
            }

            // What expired made room: fill it from the queue, so a consumer with credit is not left waiting.
            if (!expiredAny || live.Count >= maxCount || (taken = _log.TakeReady(Topic, maxCount - live.Count)).Count == 0)
            {
                break;
            }
        }

        return live;
    }

    public bool Settle(long offset) => _log.Settle(Topic, offset);

    public bool Reject(long offset)
    {
        if (Arguments.DeadLetterExchange is null)
        {
            return _log.Settle(Topic, offset);
        }

        // The copy is built from the stored message; it stays in flight until the copy is durable.
        IReadOnlyList<StoredMessage> stored = _log.Read(Topic, offset, 1);
        if (stored is not [var message] || message.Offset != offset)
        {
            return _log.Settle(Topic, offset);
        }

        _deadLetters.DeadLetter(Queue, Arguments, message, DeadLetterReason.Rejected);
        return true;
    }

    public bool Requeue(long offset)
    {
        bool requeued = _log.Requeue(Topic, offset);
        if (requeued && MayExpire)
        {
            ScheduleSweep();   // it is the head again, and may already be past its time
        }

        return requeued;
    }

    /// <summary>
    /// Whether a new message may be enqueued: false when the queue is at its x-max-length and its
    /// x-overflow is reject-publish(-dlx). Checked at routing time, so concurrent publishers may overshoot
    /// by the appends in flight (RabbitMQ serialises them in the queue process).
    /// <paramref name="alreadyAccepted"/> counts messages of the same atomic batch (a tx.commit) accepted
    /// before this one and not yet appended: RabbitMQ's queue receives them one by one.
    /// </summary>
    public bool AcceptsPublish(int alreadyAccepted = 0) =>
        Arguments.Overflow == QueueOverflow.DropHead || Arguments.MaxLength is not { } max || Ready + alreadyAccepted < max;

    /// <summary>Messages were appended; <paramref name="withExpiration"/> when one of them carries its own expiration.</summary>
    public void Appended(bool withExpiration)
    {
        if (Arguments is { MaxLength: { } maxLength, Overflow: QueueOverflow.DropHead })
        {
            DropHeadBeyond(maxLength);
        }

        if (withExpiration)
        {
            _expiringMessagesSeen = true;
        }

        if (MayExpire && Volatile.Read(ref _timerDue) == long.MaxValue)
        {
            ScheduleSweep();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_timerLock)
        {
            _timer?.Dispose();
            _timer = null;
            _timerDue = long.MaxValue;
        }
    }

    /// <summary>
    /// x-overflow drop-head: the oldest ready messages leave until at most <paramref name="maxLength"/> are
    /// ready (unacknowledged ones do not count, as in RabbitMQ), each dead-lettered with reason maxlen.
    /// </summary>
    private void DropHeadBeyond(long maxLength)
    {
        long excess;
        while ((excess = Ready - maxLength) > 0)
        {
            IReadOnlyList<TakenMessage> dropped = _log.TakeReadyWhile(Topic, (int)Math.Min(excess, ExpireBatch), _ => true);
            if (dropped.Count == 0)
            {
                return;
            }

            foreach (TakenMessage message in dropped)
            {
                _deadLetters.DeadLetter(Queue, Arguments, message.Message, DeadLetterReason.MaxLength);
            }
        }
    }

    /// <summary>When the message expires (Unix ms): publish time plus the shorter of the queue's TTL and its own; MaxValue if never.</summary>
    private long ExpiresAt(StoredMessage message)
    {
        long? ttl = Arguments.MessageTtl is { } queueTtl ? (long)queueTtl.TotalMilliseconds : null;
        if (_format?.Expiration(message) is { } own)
        {
            ttl = ttl is null ? own : Math.Min(ttl.Value, own);
        }

        return ttl is null || ttl.Value > long.MaxValue - message.Timestamp ? long.MaxValue : message.Timestamp + ttl.Value;
    }

    private void ScheduleSweep()
    {
        if (!_disposed && Interlocked.Increment(ref _sweepRequests) == 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static messages => messages.SweepWhileAsked(), this, preferLocal: false);
        }
    }

    /// <summary>One sweep at a time; a request that arrives during a sweep (an append to an empty queue) gets another.</summary>
    private void SweepWhileAsked()
    {
        int requests = Volatile.Read(ref _sweepRequests);
        do
        {
            Sweep();
        }
        while ((requests = Interlocked.Add(ref _sweepRequests, -requests)) != 0 && !_disposed);
    }

    /// <summary>Drops expired messages from the head, then sets the timer for the new head's expiry.</summary>
    private void Sweep()
    {
        try
        {
            long nextDue = long.MaxValue;
            IReadOnlyList<TakenMessage> expired;
            do
            {
                long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                nextDue = long.MaxValue;
                expired = _log.TakeReadyWhile(Topic, ExpireBatch, message =>
                {
                    long due = ExpiresAt(message);
                    if (due <= now)
                    {
                        return true;
                    }

                    nextDue = due;
                    return false;
                });
                foreach (TakenMessage message in expired)
                {
                    _deadLetters.DeadLetter(Queue, Arguments, message.Message, DeadLetterReason.Expired);
                }
            }
            while (expired.Count == ExpireBatch && !_disposed);

            SetTimer(nextDue);
        }
        catch (Exception) when (_disposed || !_log.TopicExists(Topic))
        {
            // The queue went away under the sweep.
        }
        catch (Exception ex)
        {
            // Runs on the thread pool, where an exception would end the process; the next append or requeue sweeps again.
            _deadLetters.ReportFailure(Queue.Name, ex);
        }
    }

    private void SetTimer(long due)
    {
        lock (_timerLock)
        {
            if (_disposed)
            {
                return;
            }

            _timerDue = due;
            if (due == long.MaxValue)
            {
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            TimeSpan delay = TimeSpan.FromMilliseconds(Math.Max(0, due - _time.GetUtcNow().ToUnixTimeMilliseconds()));
            if (_timer is null)
            {
                _timer = _time.CreateTimer(static state => ((QueueMessages)state!).OnTimer(), this, delay, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _timer.Change(delay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnTimer()
    {
        Volatile.Write(ref _timerDue, long.MaxValue);
        ScheduleSweep();
    }
}
