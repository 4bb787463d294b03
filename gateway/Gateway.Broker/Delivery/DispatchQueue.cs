using Gateway.Broker.Traffic;
using Gateway.Log;

namespace Gateway.Broker.Delivery;

/// <summary>
/// A queue as the dispatcher sees it: where its messages come from, its consumers in round-robin order, and
/// whether it is waiting in the run queue. Created by <see cref="DeliveryDispatcher.CreateQueue"/>.
/// Design: docs/dispatcher.md.
/// </summary>
/// <remarks>
/// An idle queue is only this object: no thread, no timer. It enters the run queue when a wake-up finds it
/// with both ready messages and a consumer that can take one (<see cref="HasWork"/>), and leaves it for
/// one burst at a time.
/// </remarks>
public sealed class DispatchQueue
{
    // Held for a whole burst and while consumers are added or removed: a burst therefore sees a consistent
    // consumer list, and Cancel returning means no delivery to that consumer is still under way.
    private readonly Lock _lock = new();

    // Copy-on-write under _lock, so the wake-up check reads it without locking.
    private volatile Consumer[] _consumers = [];

    // The consumer the next burst starts with (round-robin), under _lock.
    private int _nextConsumer;

    // Credit taken for the current burst, in delivery order, under _lock (reused to avoid an allocation per burst).
    private readonly List<(Consumer Consumer, int Position)> _reserved = [];

    // 1 while the queue is in the run queue or being dispatched; only Interlocked operations change it.
    private int _scheduled;
    private volatile bool _deleted;
    private long _dispatches;
    private long _longestWait;

    // The controller's pauses and consume limit for this queue (docs/traffic-control.md). Written under _lock;
    // the hot paths read only the volatile flag and the bucket reference, both null/false without a control.
    private volatile ConsumeControl _control = ConsumeControl.None;
    private long _controlVersion = -1;
    private volatile bool _pausedForEveryone;
    private volatile TokenBucket? _limit;

    // The one timer that wakes a throttled queue when its next token is due. Created with the limit, armed
    // only while the queue has work and no token (the CAS on _limitTimerArmed), disposed with the limit.
    private readonly Lock _limitTimerLock = new();
    private ITimer? _limitTimer;
    private int _limitTimerArmed;

    // Cumulative counts for the controller's reports (ITrafficControl.Snapshot).
    private long _appended;
    private long _delivered;
    private long _redelivered;
    private long _acknowledged;

    internal DispatchQueue(DeliveryDispatcher dispatcher, string name, IQueueSource source)
    {
        Dispatcher = dispatcher;
        Name = name;
        Source = source;
    }

    public string Name { get; }

    public int ConsumerCount => _consumers.Length;

    public bool IsDeleted => _deleted;

    /// <summary>Bursts this queue has been given.</summary>
    public long Dispatches => Volatile.Read(ref _dispatches);

    /// <summary>
    /// The most dispatches (bursts, of any queue, by any worker) that happened between this queue being
    /// scheduled and being served. A queue is in the run queue at most once and the run queue is a FIFO,
    /// so this stays below the number of queues with work: the fairness bound, measured.
    /// </summary>
    public long LongestWait => Volatile.Read(ref _longestWait);

    public IQueueSource Source { get; }

    /// <summary>The queue's log-backed messages and arguments, when it is one (a tx.commit judges x-max-length through it).</summary>
    public Queues.IQueueMessages? Messages => Source as Queues.IQueueMessages;

    internal DeliveryDispatcher Dispatcher { get; }

    /// <summary>Set by the run queue when this queue is appended to it, under the run queue's lock.</summary>
    internal long ScheduledAtDispatch { get; set; }

    /// <summary>
    /// The publish path calls this after a log append to this queue has completed: schedules the queue if a
    /// consumer can take the new messages. Cheap when it is already scheduled or nobody can consume.
    /// </summary>
    /// <param name="withExpiration">A message appended has an expiration (the queue's expiry timer looks at it).</param>
    /// <param name="count">Messages the append added (the publish path appends one at a time); counted for <see cref="AppendedCount"/>.</param>
    public void NotifyMessagesAppended(bool withExpiration = false, int count = 1)
    {
        Interlocked.Add(ref _appended, count);
        Source.Appended(withExpiration);
        Dispatcher.Wake(this);
    }

    /// <summary>
    /// The queue is gone (queue.delete, or its exclusive owner closed): the broker cancels its consumers and
    /// tells each one's channel (<see cref="IDeliveryTarget.ConsumerCancelled"/>), and nothing is delivered
    /// from it any more. Deliveries already made stay unacknowledged on their channels, as in RabbitMQ;
    /// acknowledging them later succeeds and does nothing. Call before deleting the queue's topic.
    /// </summary>
    public void Delete()
    {
        Consumer[] cancelled;
        lock (_lock)
        {
            if (_deleted)
            {
                return;
            }

            _deleted = true;
            cancelled = _consumers;
            _consumers = [];
            foreach (var consumer in cancelled)
            {
                consumer.MarkCancelled();
            }

            SetLimitLocked(null);
        }

        foreach (var consumer in cancelled)
        {
            consumer.Channel.OnConsumerCancelledByBroker(consumer);
        }
    }

    /// <summary>
    /// x-single-active-consumer: only the first consumer registered (still subscribed) receives; when it
    /// goes, the next in registration order takes over, as RabbitMQ 3.10 does for classic queues.
    /// </summary>
    public bool SingleActiveConsumer { get; internal set; }

    /// <summary>x-consumer-timeout of the queue: overrides the dispatcher's consumer timeout for its deliveries.</summary>
    public TimeSpan? ConsumerTimeout { get; internal set; }

    /// <summary>Its consumers now, in round-robin order (a snapshot).</summary>
    public IReadOnlyList<Consumer> Consumers => _consumers;

    /// <summary>Messages appended to the queue since it was created here (publishes, dead-letters, due delayed messages).</summary>
    public long AppendedCount => Interlocked.Read(ref _appended);

    /// <summary>Messages delivered from it (basic.deliver and basic.get-ok) since it was created here.</summary>
    public long DeliveredCount => Interlocked.Read(ref _delivered);

    /// <summary>Deliveries flagged redelivered (a subset of <see cref="DeliveredCount"/>).</summary>
    public long RedeliveredCount => Interlocked.Read(ref _redelivered);

    /// <summary>Deliveries settled by basic.ack.</summary>
    public long AcknowledgedCount => Interlocked.Read(ref _acknowledged);

    /// <summary>
    /// An unscoped pause is in force: no consumer receives and basic.get finds the queue empty; its messages
    /// stay ready and its unacknowledged deliveries stay with their channels.
    /// </summary>
    public bool IsPausedForEveryone => _pausedForEveryone;

    /// <summary>Consumers held by a pause now (scoped or not).</summary>
    public int PausedConsumerCount
    {
        get
        {
            int paused = 0;
            foreach (Consumer consumer in _consumers)
            {
                if (_pausedForEveryone || consumer.IsPausedByControl)
                {
                    paused++;
                }
            }

            return paused;
        }
    }

    /// <summary>This gateway's consume rate limit for the queue, if one is in force.</summary>
    public double? ConsumeLimitPerSecond => _limit?.RatePerSecond;

    /// <summary>
    /// Puts the controller's pauses and consume limit for this queue in force (docs/traffic-control.md):
    /// recomputes which consumers are paused, keeps a new consumer paused if its connection matches, and
    /// wakes the queue so that a resume or a raised limit delivers at once. A burst under way finishes
    /// first (it holds the queue's lock); nothing is taken from the queue for a paused consumer, so nothing
    /// is lost or delivered twice. Versions only grow: an older state racing a newer one is ignored.
    /// </summary>
    public void ApplyControl(ConsumeControl control, long version)
    {
        ArgumentNullException.ThrowIfNull(control);
        lock (_lock)
        {
            if (version < _controlVersion || _deleted)
            {
                return;
            }

            _controlVersion = version;
            _control = control;
            _pausedForEveryone = control.PausesEveryone;
            foreach (Consumer consumer in _consumers)
            {
                consumer.IsPausedByControl = control.Pauses(consumer.Channel.Client);
            }

            SetLimitLocked(control.LimitPerSecond);
        }

        Dispatcher.Wake(this);
    }

    /// <summary>Whether basic.get on a channel of <paramref name="client"/> is held by a pause (it then answers get-empty).</summary>
    internal bool IsPausedFor(ClientIdentity client) => _pausedForEveryone || (_control.Scopes.Count > 0 && _control.Pauses(client));

    /// <summary>One token for a basic.get under a consume limit; false if the limit allows none now.</summary>
    internal bool TryTakeGetToken() => _limit is not { } limit || limit.TryTake();

    internal void ReturnGetToken() => _limit?.Return();

    internal void CountGetDelivery(bool redelivered)
    {
        Interlocked.Increment(ref _delivered);
        if (redelivered)
        {
            Interlocked.Increment(ref _redelivered);
        }
    }

    internal void CountAcknowledged() => Interlocked.Increment(ref _acknowledged);

    /// <summary>Whether a burst now would deliver: a consumer that can receive, and a ready message. Lock-free.</summary>
    internal bool HasWork()
    {
        if (_deleted || _pausedForEveryone)
        {
            return false;
        }

        // Credit first: it is a few volatile reads, while Ready may take the log's lock.
        Consumer[] consumers = _consumers;
        foreach (var consumer in SingleActiveConsumer ? consumers.AsSpan(0, Math.Min(1, consumers.Length)) : consumers)
        {
            if (consumer.CanReceive)
            {
                return HasReadyMessages() && (_limit is not { } limit || HasTokenOrArmTimer(limit));
            }
        }

        return false;
    }

    /// <summary>
    /// Under a consume limit with messages and a consumer waiting: a token now, or else the limit timer
    /// armed for when the next one is due (once: it wakes the queue, whose next check re-arms it if needed).
    /// </summary>
    private bool HasTokenOrArmTimer(TokenBucket limit)
    {
        TimeSpan wait = limit.TimeUntilAvailable();
        if (wait == TimeSpan.Zero)
        {
            return true;
        }

        if (wait != Timeout.InfiniteTimeSpan && Interlocked.CompareExchange(ref _limitTimerArmed, 1, 0) == 0)
        {
            lock (_limitTimerLock)
            {
                if (_limitTimer is { } timer)
                {
                    timer.Change(wait, Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _limitTimerArmed = 0;   // the limit went meanwhile: nothing to wait for
                }
            }
        }

        return false;
    }

    private void OnLimitTimer()
    {
        Interlocked.Exchange(ref _limitTimerArmed, 0);
        Dispatcher.Wake(this);
    }

    /// <summary>Under _lock: the consume limit's bucket (a changed rate keeps the tokens saved) and its timer.</summary>
    private void SetLimitLocked(double? perSecond)
    {
        if (perSecond is { } rate)
        {
            if (_limit is { } existing)
            {
                existing.SetRate(rate);

                // A timer armed for the old rate may be far ahead (a 0.01/s share waits 100 s): disarm it so the
                // wake-up that follows re-arms it for the new rate, or a raised limit would wait for the old one.
                lock (_limitTimerLock)
                {
                    _limitTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _limitTimerArmed = 0;
                }

                return;
            }

            lock (_limitTimerLock)
            {
                _limitTimer ??= Dispatcher.Options.Time.CreateTimer(
                    static state => ((DispatchQueue)state!).OnLimitTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            _limit = new TokenBucket(rate, Dispatcher.Options.Time);
            return;
        }

        if (_limit is null)
        {
            return;
        }

        _limit = null;
        lock (_limitTimerLock)
        {
            _limitTimer?.Dispose();
            _limitTimer = null;
            _limitTimerArmed = 0;
        }
    }

    /// <summary>
    /// Adds a consumer after every consumer of its priority or higher (round-robin order within a priority;
    /// registration order under single active consumer); false if the queue was deleted.
    /// </summary>
    internal bool AddConsumer(Consumer consumer)
    {
        lock (_lock)
        {
            if (_deleted)
            {
                return false;
            }

            int position = _consumers.Length;
            if (!SingleActiveConsumer)
            {
                while (position > 0 && _consumers[position - 1].Priority < consumer.Priority)
                {
                    position--;
                }
            }

            // A consumer joining a paused queue (or from a paused connection) starts paused.
            consumer.IsPausedByControl = _control.Pauses(consumer.Channel.Client);
            _consumers = [.. _consumers.AsSpan(0, position), consumer, .. _consumers.AsSpan(position)];
            if (position <= _nextConsumer && _consumers.Length > 1)
            {
                _nextConsumer++;   // the consumer whose turn it was keeps it
            }

            _nextConsumer %= _consumers.Length;
            return true;
        }
    }

    /// <summary>
    /// Removes a consumer and marks it cancelled. Waits for a burst under way, so nothing is delivered to the
    /// consumer once this returns. False if it was not a consumer of this queue (any more).
    /// </summary>
    internal bool RemoveConsumer(Consumer consumer)
    {
        lock (_lock)
        {
            int position = Array.IndexOf(_consumers, consumer);
            if (position < 0)
            {
                return false;
            }

            _consumers = [.. _consumers.AsSpan(0, position), .. _consumers.AsSpan(position + 1)];
            consumer.MarkCancelled();

            // Keep the round-robin turn on the consumer that was next.
            if (position < _nextConsumer)
            {
                _nextConsumer--;
            }

            if (_nextConsumer >= _consumers.Length)
            {
                _nextConsumer = 0;
            }

            return true;
        }
    }

    /// <summary>
    /// Delivers up to <paramref name="burstSize"/> messages, one per credit, to the consumers in turn
    /// starting where the previous burst stopped, skipping consumers without credit (RabbitMQ's round-robin).
    /// Returns how many were delivered.
    /// </summary>
    internal int RunBurst(int burstSize)
    {
        lock (_lock)
        {
            var consumers = _consumers;
            if (_deleted || consumers.Length == 0 || _pausedForEveryone)
            {
                return 0;
            }

            int wanted = (int)Math.Min(burstSize, Source.Ready);
            TokenBucket? limit = _limit;
            if (limit is not null)
            {
                // A throttled burst takes min(burst, tokens); the tokens are spent below for what was delivered.
                wanted = limit.Available(wanted);
            }

            ReserveCredit(consumers, wanted);
            if (_reserved.Count == 0)
            {
                return 0;
            }

            // Credit first, messages second: a message taken is marked in flight, and putting back one that no
            // consumer could take would flag it redelivered although it never was.
            IReadOnlyList<TakenMessage> taken = [];
            int delivered = 0;
            int redelivered = 0;
            try
            {
                taken = Source.Take(_reserved.Count);
                while (delivered < taken.Count)
                {
                    var consumer = _reserved[delivered].Consumer;
                    var message = taken[delivered];
                    consumer.Channel.Deliver(consumer, message);
                    consumer.CountDelivered();
                    delivered++;
                    if (message.Redelivered)
                    {
                        redelivered++;
                    }

                    if (consumer.NoAck)
                    {
                        // basic.consume no-ack: the message counts as acknowledged once handed to the channel.
                        Source.Settle(message.Message.Offset);
                    }
                }
            }
            finally
            {
                // Normally nothing is left over unless someone else (basic.get) took messages meanwhile. If the
                // target threw, the messages it did not accept go back rather than stay in flight for ever.
                for (int i = delivered; i < taken.Count; i++)
                {
                    Source.Requeue(taken[i].Message.Offset);
                }

                for (int i = delivered; i < _reserved.Count; i++)
                {
                    var consumer = _reserved[i].Consumer;
                    consumer.Channel.ReturnCredit(consumer);
                }

                if (delivered > 0)
                {
                    _nextConsumer = (_reserved[delivered - 1].Position + 1) % consumers.Length;
                    Interlocked.Add(ref _delivered, delivered);
                    if (redelivered > 0)
                    {
                        Interlocked.Add(ref _redelivered, redelivered);
                    }

                    limit?.Take(delivered);
                }
            }

            return delivered;
        }
    }

    /// <summary>Settles a delivered message, unless the queue is gone (RabbitMQ ignores acks for a deleted queue's messages).</summary>
    internal void Settle(long offset)
    {
        if (_deleted)
        {
            return;
        }

        try
        {
            Source.Settle(offset);
        }
        catch (Exception) when (_deleted)
        {
            // Deleted while settling: Delete runs before the topic goes, so a failure now is the topic going.
        }
    }

    /// <summary>
    /// A delivered message rejected without requeue: the source discards it, or dead-letters it when the
    /// queue has a dead-letter exchange. Ignored once the queue is gone, like <see cref="Settle"/>.
    /// </summary>
    internal void Reject(long offset)
    {
        if (_deleted)
        {
            return;
        }

        try
        {
            Source.Reject(offset);
        }
        catch (Exception) when (_deleted)
        {
            // As in Settle: the topic went with the queue.
        }
    }

    /// <summary>Puts a delivered message back and wakes the queue for it, unless the queue is gone.</summary>
    internal void Requeue(long offset) => PutBack(offset, returned: false);

    /// <summary>A consumer gave a delivered message back (nack/reject with requeue): <see cref="IQueueSource.Return"/>, then as <see cref="Requeue"/>.</summary>
    internal void Return(long offset) => PutBack(offset, returned: true);

    private void PutBack(long offset, bool returned)
    {
        if (_deleted)
        {
            return;
        }

        try
        {
            _ = returned ? Source.Return(offset) : Source.Requeue(offset);
        }
        catch (Exception) when (_deleted)
        {
            return;
        }

        Dispatcher.Wake(this);
    }

    /// <summary>Claims the run-queue slot; true if the caller must enqueue the queue.</summary>
    internal bool TryMarkScheduled() => Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0;

    internal bool IsScheduled => Volatile.Read(ref _scheduled) == 1;

    /// <summary>Gives up the run-queue slot. A full fence: the re-check that follows must not read stale state.</summary>
    internal void ClearScheduled() => Interlocked.Exchange(ref _scheduled, 0);

    /// <summary>Called by the run queue, under its lock, when this queue is taken for a burst.</summary>
    internal void RecordDispatch(long waited)
    {
        Volatile.Write(ref _dispatches, _dispatches + 1);
        if (waited > _longestWait)
        {
            Volatile.Write(ref _longestWait, waited);
        }
    }

    private bool HasReadyMessages()
    {
        try
        {
            return Source.Ready > 0;
        }
        catch (Exception)
        {
            // A deleted queue's topic may be gone already: no work. Any other failure is left to a burst, which
            // runs into it again and reports it (DeliveryDispatcherOptions.DispatchFailed); a wake-up, called
            // from an ack or a publish, is not the place to fail.
            return !_deleted;
        }
    }

    /// <summary>
    /// Takes credit for up to <paramref name="wanted"/> deliveries. Consumers are ordered by priority, highest
    /// first; a priority's consumers share its deliveries round-robin until all of them are out of credit, and
    /// only then does the next priority get any. With a single active consumer only the first one counts.
    /// </summary>
    private void ReserveCredit(Consumer[] consumers, int wanted)
    {
        _reserved.Clear();
        int count = SingleActiveConsumer ? Math.Min(1, consumers.Length) : consumers.Length;
        for (int levelStart = 0; levelStart < count && _reserved.Count < wanted;)
        {
            int levelEnd = levelStart + 1;
            while (levelEnd < count && consumers[levelEnd].Priority == consumers[levelStart].Priority)
            {
                levelEnd++;
            }

            int levelSize = levelEnd - levelStart;
            int position = _nextConsumer >= levelStart && _nextConsumer < levelEnd ? _nextConsumer : levelStart;
            int refusedInARow = 0;
            while (_reserved.Count < wanted && refusedInARow < levelSize)
            {
                var consumer = consumers[position];
                if (consumer.TryTakeCredit())
                {
                    _reserved.Add((consumer, position));
                    refusedInARow = 0;
                }
                else
                {
                    refusedInARow++;
                }

                position = position + 1 == levelEnd ? levelStart : position + 1;
            }

            levelStart = levelEnd;
        }
    }
}
