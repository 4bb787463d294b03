using Gateway.Broker.Traffic;
using Gateway.Log;

namespace Gateway.Broker.Delivery;

/// <summary>
/// The delivery side of one AMQP channel: its basic.qos, its consumers, its delivery-tag sequence and its
/// deliveries awaiting acknowledgement. Created by <see cref="DeliveryDispatcher.OpenChannel"/>. It knows no
/// frames: the server maps methods onto it and its results onto replies and errors. Design: docs/dispatcher.md.
/// </summary>
/// <remarks>
/// Thread safety: every member may be called from any thread. The server calls them from the channel's own
/// thread while dispatch workers deliver to the channel's consumers at the same time. One lock per channel
/// orders the assignment of delivery tags with the calls to the <see cref="IDeliveryTarget"/> (so tags reach
/// the wire in increasing order) and guards the unacknowledged deliveries. It is never held while taking a
/// queue's lock: a burst holds its queue's lock and then takes the channel's, so the reverse would deadlock.
/// </remarks>
public sealed class DeliveryChannel
{
    private readonly Lock _lock = new();
    private readonly DeliveryDispatcher _dispatcher;
    private readonly IDeliveryTarget _target;
    private readonly Dictionary<string, Consumer> _consumersByTag = new(StringComparer.Ordinal);
    private readonly UnackedDeliveries _unacked = new();

    // The same consumers as _consumersByTag, copy-on-write under _lock, so that waking their queues when the
    // channel's credit reopens needs neither the lock nor an allocation.
    private volatile Consumer[] _consumers = [];
    private ulong _lastDeliveryTag;
    private volatile ushort _consumerPrefetch;
    private volatile bool _paused;
    private bool _closed;
    private ITimer? _timeoutCheck;   // runs while deliveries await acknowledgement and a consumer timeout applies
    private bool _timedOut;

    // tx.select: acks, nacks and rejects are held here, in arrival order, until tx.commit or tx.rollback.
    private bool _transactional;
    private List<(List<UnackedDelivery> Deliveries, Settlement Settlement)> _heldSettlements = [];

    internal DeliveryChannel(DeliveryDispatcher dispatcher, IDeliveryTarget target, ClientIdentity client, int number)
    {
        _dispatcher = dispatcher;
        _target = target;
        Client = client;
        Number = number;
    }

    /// <summary>The connection this channel belongs to, as scoped pauses match it.</summary>
    public ClientIdentity Client { get; }

    /// <summary>The AMQP channel number (for reports; the broker does not use it).</summary>
    public int Number { get; }

    /// <summary>Its consumers now (a snapshot).</summary>
    public IReadOnlyList<Consumer> Consumers => _consumers;

    /// <summary>The prefetch limit consumers created from now on get (basic.qos global=false); 0: unlimited.</summary>
    public ushort ConsumerPrefetch => _consumerPrefetch;

    /// <summary>The limit shared by all the channel's consumers (basic.qos global=true); 0: unlimited.</summary>
    public ushort ChannelPrefetch => (ushort)Credit.Limit;

    /// <summary>Deliveries (consumer and basic.get) awaiting acknowledgement.</summary>
    public int UnackedCount
    {
        get
        {
            lock (_lock)
            {
                return _unacked.Count;
            }
        }
    }

    /// <summary>Whether deliveries are held back (<see cref="Pause"/>).</summary>
    public bool IsPaused => _paused;

    /// <summary>The channel-wide credit (global qos); counts every consumer delivery awaiting acknowledgement.</summary>
    internal DeliveryCredit Credit { get; } = new(0);

    /// <summary>
    /// basic.qos with RabbitMQ's reinterpretation (3.3 and later). <paramref name="global"/> false sets the
    /// limit of each consumer created on this channel from now on; existing consumers keep theirs.
    /// <paramref name="global"/> true sets one limit shared by all consumers of the channel, in force at once
    /// (lowering it below the unacknowledged count only stops deliveries until acks bring it below). Both can
    /// be in force; a delivery then needs credit under both. prefetch_size is not supported by RabbitMQ
    /// (the server refuses a non-zero one), so it does not appear here.
    /// </summary>
    public void SetQos(ushort prefetchCount, bool global)
    {
        if (!global)
        {
            _consumerPrefetch = prefetchCount;
            return;
        }

        if (Credit.SetLimit(prefetchCount))
        {
            WakeConsumerQueues();
        }
    }

    /// <summary>
    /// Whether <paramref name="consumerTag"/> names a consumer of this channel (basic.consume refuses to reuse
    /// one: 530 NOT_ALLOWED).
    /// </summary>
    public bool HasConsumer(string consumerTag)
    {
        ArgumentNullException.ThrowIfNull(consumerTag);
        lock (_lock)
        {
            return _consumersByTag.ContainsKey(consumerTag);
        }
    }

    /// <summary>
    /// basic.consume. Send basic.consume-ok before calling this: deliveries may start before it returns, and
    /// RabbitMQ sends consume-ok before the first basic.deliver. The consumer gets the channel's current
    /// per-consumer prefetch (<see cref="ConsumerPrefetch"/>), unless <paramref name="noAck"/>. If the queue
    /// has been deleted meanwhile, the consumer comes back cancelled and the target is told, as if the queue
    /// had been deleted just after.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The tag is in use on this channel (check <see cref="HasConsumer"/> first), or the channel is closed.
    /// </exception>
    public Consumer Consume(DispatchQueue queue, string consumerTag, bool noAck, int priority = 0)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(consumerTag);
        if (!_dispatcher.Owns(queue))
        {
            throw new ArgumentException("the queue belongs to another dispatcher", nameof(queue));
        }

        Consumer consumer;
        lock (_lock)
        {
            ThrowIfClosed();
            if (_consumersByTag.ContainsKey(consumerTag))
            {
                throw new InvalidOperationException($"consumer tag '{consumerTag}' is in use on this channel");
            }

            consumer = new Consumer(consumerTag, queue, this, noAck, _consumerPrefetch, priority);
            _consumersByTag.Add(consumerTag, consumer);
            _consumers = [.. _consumers, consumer];
        }

        if (queue.AddConsumer(consumer))
        {
            _dispatcher.Wake(queue);
        }
        else
        {
            consumer.MarkCancelled();
            OnConsumerCancelledByBroker(consumer);
        }

        return consumer;
    }

    /// <summary>
    /// basic.cancel. Once this returns nothing more is delivered to the consumer, so basic.cancel-ok can
    /// follow. Its unacknowledged deliveries stay on the channel until acknowledged or the channel closes,
    /// as in RabbitMQ. False if no consumer has the tag (RabbitMQ still answers cancel-ok).
    /// </summary>
    public bool Cancel(string consumerTag)
    {
        ArgumentNullException.ThrowIfNull(consumerTag);
        Consumer? consumer;
        lock (_lock)
        {
            if (!_consumersByTag.Remove(consumerTag, out consumer))
            {
                return false;
            }

            _consumers = Without(_consumers, consumer);
        }

        consumer.Queue.RemoveConsumer(consumer);
        return true;
    }

    /// <summary>
    /// basic.get: takes the queue's next ready message and hands it to the target as basic.get-ok with the
    /// channel's next delivery tag, on the calling thread. No prefetch applies, as in RabbitMQ. False if
    /// nothing is ready (the server answers basic.get-empty).
    /// </summary>
    public bool Get(DispatchQueue queue, bool noAck)
    {
        ArgumentNullException.ThrowIfNull(queue);
        TakenMessage taken;
        lock (_lock)
        {
            ThrowIfClosed();
            // A pause holding this connection's consumers holds its basic.get too (get-empty), and under a consume
            // limit basic.get spends a token like a delivery: either way the message stays ready, untouched.
            if (queue.IsDeleted || queue.IsPausedFor(Client) || !queue.TryTakeGetToken())
            {
                return false;
            }

            if (queue.Source.Take(1) is not [var first])
            {
                queue.ReturnGetToken();
                return false;
            }

            taken = first;
            queue.CountGetDelivery(taken.Redelivered);
            ulong deliveryTag = ++_lastDeliveryTag;
            try
            {
                _target.DeliverGetOk(new GetDelivery(deliveryTag, taken.Redelivered, queue.Source.Ready, taken.Message, taken.DeliveryCount));
            }
            catch
            {
                queue.Requeue(taken.Message.Offset);
                throw;
            }

            if (!noAck)
            {
                _unacked.Add(new UnackedDelivery(deliveryTag, queue, taken.Message.Offset, Consumer: null, Now()));
                EnsureTimeoutCheck();
            }
        }

        if (noAck)
        {
            queue.Settle(taken.Message.Offset);
        }

        return true;
    }

    /// <summary>basic.ack: settles the delivery (with <paramref name="multiple"/>, every one up to it; tag 0 with multiple: all).</summary>
    public AcknowledgeResult Ack(ulong deliveryTag, bool multiple) => Acknowledge(deliveryTag, multiple, Settlement.Acked);

    /// <summary>
    /// basic.nack: requeues the delivery (and, with <paramref name="multiple"/>, every one before it) or,
    /// without <paramref name="requeue"/>, settles it.
    /// </summary>
    public AcknowledgeResult Nack(ulong deliveryTag, bool multiple, bool requeue) =>
        Acknowledge(deliveryTag, multiple, requeue ? Settlement.Returned : Settlement.Rejected);

    /// <summary>basic.reject: basic.nack of one delivery.</summary>
    public AcknowledgeResult Reject(ulong deliveryTag, bool requeue) => Nack(deliveryTag, multiple: false, requeue);

    /// <summary>
    /// tx.select: from now on <see cref="Ack"/>, <see cref="Nack"/> and <see cref="Reject"/> only take the
    /// deliveries out of those awaiting acknowledgement (an unknown tag still fails at once, and a second
    /// ack of the same tag is unknown) and hold the settlement until <see cref="CommitSettlements"/>, as
    /// rabbit_channel does in tx mode. Their credit stays taken until then. Idempotent; there is no way back.
    /// </summary>
    public void SelectTransactions()
    {
        lock (_lock)
        {
            _transactional = true;
        }
    }

    /// <summary>Deliveries whose ack, nack or reject waits for tx.commit.</summary>
    public int HeldSettlementCount
    {
        get
        {
            lock (_lock)
            {
                return _heldSettlements.Sum(h => h.Deliveries.Count);
            }
        }
    }

    /// <summary>tx.commit: applies the held acks, nacks and rejects in the order they came, and returns how many deliveries they settled or requeued.</summary>
    public int CommitSettlements()
    {
        List<(List<UnackedDelivery> Deliveries, Settlement Settlement)> held;
        lock (_lock)
        {
            held = _heldSettlements;
            _heldSettlements = [];
        }

        int count = 0;
        foreach ((List<UnackedDelivery> deliveries, Settlement settlement) in held)
        {
            Finish(deliveries, settlement);
            count += deliveries.Count;
        }

        return count;
    }

    /// <summary>
    /// tx.rollback: forgets the held acks, nacks and rejects; their deliveries await acknowledgement again
    /// (rabbit_channel puts them back in its unacked queue: not requeued, not redelivered).
    /// </summary>
    public void RollbackSettlements()
    {
        lock (_lock)
        {
            if (_heldSettlements.Count == 0)
            {
                return;
            }

            _unacked.Restore(_heldSettlements.SelectMany(h => h.Deliveries));
            _heldSettlements = [];
            if (!_closed)
            {
                EnsureTimeoutCheck();
            }
        }
    }

    /// <summary>
    /// basic.recover (and basic.recover-async) with requeue=true: requeues every delivery awaiting
    /// acknowledgement and returns how many. RabbitMQ refuses requeue=false with 540 NOT_IMPLEMENTED, so the
    /// server does that and this has no such mode.
    /// </summary>
    public int Recover()
    {
        List<UnackedDelivery> all;
        lock (_lock)
        {
            all = _unacked.RemoveAll();
        }

        Finish(all, Settlement.Requeued);
        return all.Count;
    }

    /// <summary>
    /// Stops deliveries to this channel: the server calls it when the channel's output has more buffered
    /// than it wants to hold (RabbitMQ's credit flow from the connection writer back to the queues), and
    /// <see cref="Resume"/> once it drained. It holds back no-ack consumers too, which nothing else limits.
    /// A burst already under way still completes, so at most one burst per queue follows the pause.
    /// </summary>
    public void Pause() => _paused = true;

    public void Resume()
    {
        _paused = false;
        WakeConsumerQueues();
    }

    /// <summary>
    /// channel.close or connection loss: cancels every consumer, then requeues every delivery awaiting
    /// acknowledgement in delivery-tag order (each becomes ready again, flagged redelivered), as RabbitMQ
    /// does for a closed channel. Deliveries that a worker makes while this runs are requeued too. Idempotent.
    /// </summary>
    public void Close()
    {
        Consumer[] consumers;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            consumers = _consumers;
            _consumers = [];
            _consumersByTag.Clear();
        }

        // After these returns no burst is delivering here any more, so the unacked set below is final.
        foreach (var consumer in consumers)
        {
            consumer.Queue.RemoveConsumer(consumer);
        }

        List<UnackedDelivery> unacked;
        lock (_lock)
        {
            _timeoutCheck?.Dispose();
            _timeoutCheck = null;

            // Acks of an uncommitted transaction die with it: those deliveries come back too (in tag order).
            _unacked.Restore(_heldSettlements.SelectMany(h => h.Deliveries));
            _heldSettlements = [];
            unacked = _unacked.RemoveAll();
        }

        Finish(unacked, Settlement.Requeued);
    }

    /// <summary>Called by a burst, holding the consumer's queue lock: assigns the tag, hands the delivery over, remembers it.</summary>
    internal void Deliver(Consumer consumer, TakenMessage taken)
    {
        lock (_lock)
        {
            ulong deliveryTag = ++_lastDeliveryTag;
            _target.Deliver(new ConsumerDelivery(consumer.Tag, deliveryTag, taken.Redelivered, taken.Message, taken.DeliveryCount));

            // Remembered only once the target took it: if it threw, the burst puts the message back instead.
            if (!consumer.NoAck)
            {
                _unacked.Add(new UnackedDelivery(deliveryTag, consumer.Queue, taken.Message.Offset, consumer, Now()));
                EnsureTimeoutCheck();
            }
        }
    }

    /// <summary>
    /// Returns the credit one delivery to <paramref name="consumer"/> held, and wakes exactly what that enables:
    /// every queue of the channel if the channel-wide window reopened, else the consumer's queue if its own did.
    /// </summary>
    internal void ReturnCredit(Consumer consumer)
    {
        if (consumer.NoAck)
        {
            return;
        }

        bool consumerReopened = consumer.Credit.Return();
        bool channelReopened = Credit.Return();
        if (channelReopened)
        {
            WakeConsumerQueues();
        }
        else if (consumerReopened && !consumer.IsCancelled)
        {
            _dispatcher.Wake(consumer.Queue);
        }
    }

    /// <summary>The consumer's queue was deleted: forget the consumer and tell the target, unless the client cancelled it first.</summary>
    internal void OnConsumerCancelledByBroker(Consumer consumer)
    {
        lock (_lock)
        {
            if (_closed || !_consumersByTag.TryGetValue(consumer.Tag, out var current) || current != consumer)
            {
                return;
            }

            _consumersByTag.Remove(consumer.Tag);
            _consumers = Without(_consumers, consumer);
            _target.ConsumerCancelled(consumer.Tag);
        }
    }

    /// <summary>
    /// The next delivery tag, for a delivery the server makes outside the dispatcher (a direct reply-to reply,
    /// which is no-ack): tags stay one sequence per channel whatever delivered them.
    /// </summary>
    public ulong TakeDeliveryTag()
    {
        lock (_lock)
        {
            ThrowIfClosed();
            return ++_lastDeliveryTag;
        }
    }

    private long Now() => _dispatcher.Options.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Under the lock: starts the periodic consumer-timeout check when the first delivery awaits acknowledgement.</summary>
    private void EnsureTimeoutCheck()
    {
        if (_timeoutCheck is null && !_timedOut)
        {
            TimeSpan interval = _dispatcher.Options.ConsumerTimeoutCheckInterval;
            _timeoutCheck = _dispatcher.Options.Time.CreateTimer(static state => ((DeliveryChannel)state!).CheckTimeouts(), this, interval, interval);
        }
    }

    /// <summary>
    /// RabbitMQ's consumer timeout (rabbit_channel:evaluate_consumer_timeout): a delivery unacknowledged for
    /// longer than its queue's timeout (x-consumer-timeout, else the dispatcher's) gets the channel closed.
    /// Reported once; the target closes the channel, which requeues every unacknowledged delivery.
    /// </summary>
    private void CheckTimeouts()
    {
        TimeSpan? expired = null;
        lock (_lock)
        {
            if (_closed || _timedOut)
            {
                return;
            }

            long now = Now();
            foreach (UnackedDelivery delivery in _unacked.InTagOrder)
            {
                if ((delivery.Queue.ConsumerTimeout ?? _dispatcher.Options.ConsumerTimeout) is { } timeout
                    && now - delivery.DeliveredAt > (long)timeout.TotalMilliseconds)
                {
                    expired = timeout;
                    _timedOut = true;
                    _timeoutCheck?.Dispose();
                    _timeoutCheck = null;
                    break;
                }
            }
        }

        if (expired is { } value)
        {
            _target.DeliveryTimedOut(value);
        }
    }

    private AcknowledgeResult Acknowledge(ulong deliveryTag, bool multiple, Settlement settlement)
    {
        List<UnackedDelivery> deliveries;
        lock (_lock)
        {
            if (!_unacked.TryRemove(deliveryTag, multiple, out deliveries))
            {
                return new AcknowledgeResult(0, deliveryTag);
            }

            if (_transactional)
            {
                _heldSettlements.Add((deliveries, settlement));
                return new AcknowledgeResult(deliveries.Count, UnknownDeliveryTag: null);
            }
        }

        Finish(deliveries, settlement);
        return new AcknowledgeResult(deliveries.Count, UnknownDeliveryTag: null);
    }

    /// <summary>Settles or requeues deliveries no longer awaiting acknowledgement, oldest first, and returns their credit.</summary>
    private void Finish(List<UnackedDelivery> deliveries, Settlement settlement)
    {
        foreach (var delivery in deliveries)
        {
            switch (settlement)
            {
                case Settlement.Requeued:
                    delivery.Queue.Requeue(delivery.Offset);
                    break;
                case Settlement.Returned:
                    delivery.Queue.Return(delivery.Offset);   // delayed if the queue's policy grades redelivery
                    break;
                case Settlement.Rejected:
                    delivery.Queue.Reject(delivery.Offset);   // dead-lettered if the queue has a DLX
                    break;
                default:
                    delivery.Queue.Settle(delivery.Offset);
                    delivery.Queue.CountAcknowledged();
                    break;
            }

            if (delivery.Consumer is { } consumer)
            {
                ReturnCredit(consumer);
            }
        }
    }

    private void WakeConsumerQueues()
    {
        foreach (var consumer in _consumers)
        {
            _dispatcher.Wake(consumer.Queue);
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new InvalidOperationException("the channel is closed");
        }
    }

    private static Consumer[] Without(Consumer[] consumers, Consumer consumer) => Array.FindAll(consumers, c => c != consumer);
}

/// <summary>What basic.ack, basic.nack or basic.reject did.</summary>
/// <param name="Count">Deliveries settled or requeued.</param>
/// <param name="UnknownDeliveryTag">
/// Set when the tag was not awaiting acknowledgement (never delivered, already acknowledged, or delivered
/// no-ack). Nothing was done, and the server closes the channel with 406 PRECONDITION_FAILED and
/// <see cref="ErrorText"/>, as RabbitMQ does.
/// </param>
public readonly record struct AcknowledgeResult(int Count, ulong? UnknownDeliveryTag)
{
    public bool IsUnknownDeliveryTag => UnknownDeliveryTag.HasValue;

    /// <summary>RabbitMQ's explanation for the channel close: "unknown delivery tag N".</summary>
    public string? ErrorText => UnknownDeliveryTag is { } tag ? $"unknown delivery tag {tag}" : null;
}

/// <summary>How a delivery awaiting acknowledgement ends.</summary>
internal enum Settlement
{
    /// <summary>basic.ack: done with.</summary>
    Acked,

    /// <summary>basic.nack / basic.reject without requeue: discarded, or dead-lettered (reason "rejected").</summary>
    Rejected,

    /// <summary>basic.recover, or the channel closed: ready again, flagged redelivered.</summary>
    Requeued,

    /// <summary>nack/reject with requeue: as <see cref="Requeued"/>, or later under a graded redelivery policy.</summary>
    Returned,
}
