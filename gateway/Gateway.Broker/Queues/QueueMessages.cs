using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Log;
using MetaService.Contracts;

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
public sealed class QueueMessages : IQueueMessages, IDisposable
{
    private const int ExpireBatch = 256;

    private readonly IMessageLog _log;
    private readonly IMessageFormat? _format;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly TimeProvider _time;
    private readonly QueueArguments _declared;
    private readonly GradedRedelivery? _gradedRedelivery;
    private readonly ExpirySweeps _sweeps;
    private volatile bool _expiringMessagesSeen;
    private volatile bool _disposed;
    private volatile QueueArguments _arguments;

    // x-max-length-bytes: the body bytes of the ready messages, kept here (the log counts messages, not
    // bytes): counted once when the queue is opened, then added for appends (read from _countedEnd on) and
    // requeues, subtracted for every take. Only for queues with the limit.
    private readonly Lock _bytesLock = new();
    private long _readyBodyBytes;
    private long _countedEnd;
    private volatile GradedRedeliveryPolicy? _redeliveryPolicy;

    public QueueMessages(
        IMessageLog log,
        string topic,
        QueueIdentity queue,
        QueueArguments arguments,
        IMessageFormat? format,
        DeadLetterPublisher deadLetters,
        TimeProvider time,
        GradedRedelivery? gradedRedelivery = null)
    {
        _log = log;
        Topic = topic;
        Queue = queue;
        _declared = arguments;
        _arguments = arguments;
        _format = format;
        _deadLetters = deadLetters;
        _time = time;
        _sweeps = new ExpirySweeps(time, Sweep);
        _gradedRedelivery = gradedRedelivery;
        if (arguments.MaxLengthBytes is not null)
        {
            _countedEnd = log.EndOffset(topic);
            _readyBodyBytes = log.ReadyBodyBytes(topic);
        }
    }

    /// <summary>Body bytes of the ready messages (tracked only for a queue with x-max-length-bytes; 0 otherwise).</summary>
    public long ReadyBodyBytes => Volatile.Read(ref _readyBodyBytes);

    public string Topic { get; }

    public QueueIdentity Queue { get; }

    /// <summary>The queue's arguments, with what its policy adds (a dead-letter exchange the arguments do not set).</summary>
    public QueueArguments Arguments => _arguments;

    /// <summary>The graded redelivery its policy selects, or null: a nacked message is then requeued at once, as in RabbitMQ.</summary>
    public GradedRedeliveryPolicy? RedeliveryPolicy => _redeliveryPolicy;

    /// <summary>
    /// The policy in force changed (set, replaced or cleared). As in RabbitMQ, the queue's own arguments
    /// win over the policy's dead-letter-exchange and dead-letter-routing-key; graded redelivery exists
    /// only as a policy.
    /// </summary>
    public void ApplyPolicy(PolicyRecord? policy)
    {
        QueueArguments effective = _declared;
        if (_declared.DeadLetterExchange is null && policy?.Definition["dead-letter-exchange"] is JsonValue exchange && exchange.GetValueKind() == JsonValueKind.String)
        {
            string? routingKey = policy.Definition["dead-letter-routing-key"] is JsonValue key && key.GetValueKind() == JsonValueKind.String ? key.GetValue<string>() : null;
            effective = _declared with { DeadLetterExchange = exchange.GetValue<string>(), DeadLetterRoutingKey = _declared.DeadLetterRoutingKey ?? routingKey };
        }

        GradedRedeliveryPolicy? redelivery;
        try
        {
            redelivery = GradedRedeliveryPolicy.FromDefinition(policy?.Definition);
        }
        catch (FormatException)
        {
            redelivery = null;   // the metadata service refuses such policies; one stored before that check is ignored
        }

        _arguments = effective;
        _redeliveryPolicy = _gradedRedelivery is null ? null : redelivery;
    }

    /// <summary>
    /// Set for the levels of a <see cref="PriorityQueueMessages"/>: their expiry sweeps are the priority
    /// queue's, run over all levels in delivery order, so a level asks its owner instead of sweeping itself.
    /// </summary>
    internal Action? SweepRequested { get; init; }

    /// <summary>
    /// False for the levels of a <see cref="PriorityQueueMessages"/>: x-max-length(-bytes) is the whole
    /// queue's, so a level keeps its byte count for its owner but does not drop messages itself.
    /// </summary>
    internal bool EnforcesLengthLimit { get; init; } = true;

    public long Ready => _log.ReadyCount(Topic);

    private bool MayExpire => Arguments.HasMessageTtl || _expiringMessagesSeen;

    public IReadOnlyList<TakenMessage> Take(int maxCount)
    {
        IReadOnlyList<TakenMessage> taken = TakeLive(maxCount);
        bool quorum = Arguments.Quorum, graded = _redeliveryPolicy is not null;
        if ((!quorum && !graded) || taken.Count == 0 || _format is null)
        {
            return taken;
        }

        var counted = new TakenMessage[taken.Count];
        for (int i = 0; i < counted.Length; i++)
        {
            TakenMessage message = taken[i];

            // A graded redelivery comes back as a new copy carrying its count: it was delivered before.
            long stored = _format.DeliveryCount(message.Message);
            if (stored > 0 && !message.Redelivered)
            {
                message = message with { Redelivered = true };
            }

            // Quorum queues count returns; the delivery path shows the count as x-delivery-count.
            counted[i] = quorum
                ? message with { DeliveryCount = (int)Math.Min(int.MaxValue, _log.Returns(Topic, message.Message.Offset) + stored) }
                : message;
        }

        return counted;
    }

    private IReadOnlyList<TakenMessage> TakeLive(int maxCount)
    {
        IReadOnlyList<TakenMessage> taken = TakeReady(maxCount);
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
            if (!expiredAny || live.Count >= maxCount || (taken = TakeReady(maxCount - live.Count)).Count == 0)
            {
                break;
            }
        }

        return live;
    }

    public bool Settle(long offset) => _log.Settle(Topic, offset);

    public bool Reject(long offset) => DeadLetterInFlight(offset, DeadLetterReason.Rejected);

    /// <summary>
    /// basic.nack or basic.reject with requeue: with graded redelivery the message leaves the queue and comes
    /// back after the policy's next delay (or is dead-lettered past its limit); otherwise requeued at once.
    /// </summary>
    public bool Return(long offset) =>
        _redeliveryPolicy is { } policy && _gradedRedelivery is { } graded
            ? graded.Return(this, offset, policy)
            : Requeue(offset);

    public bool Requeue(long offset)
    {
        // rabbit_fifo (RabbitMQ 3.10): every return counts, a nack or reject with requeue as well as a
        // channel closed with the message unacknowledged; the return that takes the count past
        // x-delivery-limit dead-letters the message (reason delivery_limit) instead of requeueing it.
        if (Arguments.DeliveryLimit is { } limit && _log.Returns(Topic, offset) + 1 > limit)
        {
            return DeadLetterInFlight(offset, DeadLetterReason.DeliveryLimit);
        }

        bool requeued = _log.Requeue(Topic, offset);
        if (requeued && Arguments.MaxLengthBytes is not null && _log.Read(Topic, offset, 1) is [var back] && back.Offset == offset)
        {
            AddReadyBytes(back.Body.Length);
        }

        if (requeued && MayExpire)
        {
            ScheduleSweep();   // it is the head again, and may already be past its time
        }

        return requeued;
    }

    /// <summary>An in-flight message leaves the queue for <paramref name="reason"/>: to the dead-letter exchange if the queue has one, else discarded.</summary>
    private bool DeadLetterInFlight(long offset, DeadLetterReason reason)
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

        _deadLetters.DeadLetter(Queue, Arguments, message, reason);
        return true;
    }

    /// <summary>
    /// Whether a new message may be enqueued (<see cref="QueueArguments.Accepts"/>): false when the queue is full
    /// and its x-overflow is reject-publish(-dlx). Checked at routing time, so concurrent publishers may overshoot
    /// by the appends in flight (RabbitMQ serialises them in the queue process).
    /// <paramref name="alreadyAccepted"/> counts messages of the same atomic batch (a tx.commit) accepted
    /// before this one and not yet appended: RabbitMQ's queue receives them one by one.
    /// </summary>
    public bool AcceptsPublish(long bodyBytes = 0, int alreadyAccepted = 0, long alreadyAcceptedBytes = 0) =>
        !Arguments.RefusesWhenFull || Arguments.Accepts(Ready, ReadyBodyBytes, bodyBytes, alreadyAccepted, alreadyAcceptedBytes);

    /// <summary>queue.purge: settles every ready message (in-flight ones stay) and returns how many.</summary>
    public long Purge()
    {
        if (Arguments.MaxLengthBytes is null)
        {
            return _log.Purge(Topic);
        }

        lock (_bytesLock)
        {
            CountAppended();
            long purged = _log.Purge(Topic);
            _readyBodyBytes = 0;
            return purged;
        }
    }

    /// <summary>Messages were appended; <paramref name="withExpiration"/> when one of them carries its own expiration.</summary>
    public void Appended(bool withExpiration)
    {
        QueueArguments arguments = Arguments;
        CountAppendedBytes();
        if (EnforcesLengthLimit && arguments is { HasLengthLimit: true, Overflow: QueueOverflow.DropHead })
        {
            DropHeadBeyondLimits();
        }

        if (withExpiration)
        {
            _expiringMessagesSeen = true;
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
    }

    /// <summary>
    /// x-overflow drop-head: the oldest ready messages leave until the queue is within x-max-length and
    /// x-max-length-bytes again (unacknowledged ones do not count, as in RabbitMQ), each dead-lettered with
    /// reason maxlen. A body bigger than the byte limit therefore leaves at once, as in RabbitMQ.
    /// </summary>
    private void DropHeadBeyondLimits()
    {
        while (true)
        {
            long toDrop = Arguments.ToDropFromHead(Ready, ReadyBodyBytes);
            if (toDrop <= 0)
            {
                return;
            }

            IReadOnlyList<TakenMessage> dropped = TakeReadyWhile((int)Math.Min(toDrop, ExpireBatch), _ => true);
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

    private IReadOnlyList<TakenMessage> TakeReady(int maxCount) => Counted(_log.TakeReady(Topic, maxCount));

    /// <summary>The log's TakeReadyWhile on this queue's topic, keeping the byte count (a priority queue drops and expires through it).</summary>
    internal IReadOnlyList<TakenMessage> TakeReadyWhile(int maxCount, Func<StoredMessage, bool> predicate) =>
        Counted(_log.TakeReadyWhile(Topic, maxCount, predicate));

    /// <summary>Taken messages are no longer ready: their bodies leave the byte count.</summary>
    private IReadOnlyList<TakenMessage> Counted(IReadOnlyList<TakenMessage> taken)
    {
        if (Arguments.MaxLengthBytes is not null && taken.Count > 0)
        {
            long bytes = 0;
            foreach (TakenMessage message in taken)
            {
                bytes += message.Message.Body.Length;
            }

            lock (_bytesLock)
            {
                // A take can overtake the append's notification: count the appends first, so every body is
                // added exactly once before it is subtracted (an in-flight message is still readable).
                CountAppended();
                _readyBodyBytes -= bytes;
            }
        }

        return taken;
    }

    private void AddReadyBytes(long bytes)
    {
        lock (_bytesLock)
        {
            _readyBodyBytes += bytes;
        }
    }

    /// <summary>Brings the byte count up to the log's end (a priority queue asks its levels after appends).</summary>
    internal void CountAppendedBytes()
    {
        if (Arguments.MaxLengthBytes is not null)
        {
            lock (_bytesLock)
            {
                CountAppended();
            }
        }
    }

    /// <summary>Adds the bodies appended since the last count (under <see cref="_bytesLock"/>).</summary>
    private void CountAppended()
    {
        long end = _log.EndOffset(Topic);
        while (_countedEnd < end)
        {
            IReadOnlyList<StoredMessage> appended = _log.Read(Topic, _countedEnd, (int)Math.Min(end - _countedEnd, ExpireBatch));
            if (appended.Count == 0)
            {
                _countedEnd = end;   // the topic is going (deleted): nothing left to count
                return;
            }

            long bytes = 0;
            foreach (StoredMessage message in appended)
            {
                bytes += message.Body.Length;
            }

            _readyBodyBytes += bytes;
            _countedEnd = appended[^1].Offset + 1;
        }
    }

    /// <summary>When the message expires (Unix ms): publish time plus the shorter of the queue's TTL and its own; MaxValue if never.</summary>
    internal long ExpiresAt(StoredMessage message)
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
        if (SweepRequested is { } owner)
        {
            owner();
            return;
        }

        _sweeps.Request();
    }

    /// <summary>Drops expired messages from the head and returns when the new head expires (the timer is set for it).</summary>
    private long Sweep()
    {
        try
        {
            long nextDue = long.MaxValue;
            IReadOnlyList<TakenMessage> expired;
            do
            {
                long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                nextDue = long.MaxValue;
                expired = TakeReadyWhile(ExpireBatch, message =>
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

            return nextDue;
        }
        catch (Exception) when (_disposed || !_log.TopicExists(Topic))
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
