namespace Gateway.Broker.Delivery;

/// <summary>
/// One basic.consume: a consumer tag on a channel, subscribed to a queue. Created by
/// <see cref="DeliveryChannel.Consume"/>; ended by <see cref="DeliveryChannel.Cancel"/>, by the channel's
/// close, or by the broker when the queue is deleted.
/// </summary>
public sealed class Consumer
{
    private volatile bool _cancelled;
    private volatile bool _pausedByControl;
    private long _delivered;

    internal Consumer(string tag, DispatchQueue queue, DeliveryChannel channel, bool noAck, ushort prefetch, int priority = 0)
    {
        Tag = tag;
        Priority = priority;
        Queue = queue;
        Channel = channel;
        NoAck = noAck;
        Prefetch = noAck ? (ushort)0 : prefetch;
        Credit = new DeliveryCredit(Prefetch);
    }

    public string Tag { get; }

    /// <summary>
    /// basic.consume's x-priority (default 0): a queue delivers to its highest-priority consumers while any of
    /// them has credit, and to lower ones only when all higher ones are blocked (rabbitmq.com/consumer-priority).
    /// </summary>
    public int Priority { get; }

    public DispatchQueue Queue { get; }

    public DeliveryChannel Channel { get; }

    /// <summary>basic.consume no-ack: messages are settled as they are delivered and need no credit.</summary>
    public bool NoAck { get; }

    /// <summary>
    /// Its prefetch limit (0: unlimited): the channel's per-consumer basic.qos (global=false) when it was
    /// created. Fixed for its lifetime: RabbitMQ applies a later per-consumer qos to new consumers only.
    /// </summary>
    public ushort Prefetch { get; }

    /// <summary>Its deliveries awaiting acknowledgement (with those being delivered right now).</summary>
    public int UnackedCount => Credit.InUse;

    /// <summary>
    /// No more deliveries will be made to it. Its unacknowledged ones stay on the channel until acknowledged
    /// or the channel closes.
    /// </summary>
    public bool IsCancelled => _cancelled;

    /// <summary>
    /// A controller's pause holds it (docs/traffic-control.md): it keeps its subscription, channel, credit and
    /// unacknowledged deliveries, and the queue's round-robin skips it. Set by its queue, under the queue's lock.
    /// </summary>
    public bool IsPausedByControl
    {
        get => _pausedByControl;
        internal set => _pausedByControl = value;
    }

    /// <summary>Messages delivered to it so far.</summary>
    public long DeliveredCount => Volatile.Read(ref _delivered);

    internal DeliveryCredit Credit { get; }

    /// <summary>Whether a delivery to it would be allowed now (read without locks by the wake-up check).</summary>
    internal bool CanReceive =>
        !_cancelled && !_pausedByControl && !Channel.IsPaused && (NoAck || (Credit.IsAvailable && Channel.Credit.IsAvailable));

    /// <summary>Counts a delivery; called by its queue's burst, under the queue's lock (one writer at a time).</summary>
    internal void CountDelivered() => Volatile.Write(ref _delivered, _delivered + 1);

    /// <summary>
    /// Takes the credit one delivery needs: one of its own and one of its channel's (RabbitMQ checks both
    /// when per-consumer and global qos are in force). No-ack consumers need none.
    /// </summary>
    internal bool TryTakeCredit()
    {
        if (Channel.IsPaused || _pausedByControl)
        {
            return false;
        }

        if (NoAck)
        {
            return true;
        }

        if (!Credit.TryTake())
        {
            return false;
        }

        if (Channel.Credit.TryTake())
        {
            return true;
        }

        // No wake-up is needed for this return even if it reopens the window: the caller is dispatching this
        // consumer's queue, and the dispatcher re-checks the queue after every dispatch.
        Credit.Return();
        return false;
    }

    internal void MarkCancelled() => _cancelled = true;
}
