namespace Gateway.Broker.Delivery;

/// <summary>
/// A prefetch window as a counting semaphore that never blocks: how many deliveries awaiting
/// acknowledgement its holder (one consumer, or one channel under global basic.qos) may have.
/// A limit of 0 means unlimited, as prefetch_count 0 does in AMQP.
/// </summary>
/// <remarks>
/// The count is kept even while unlimited: a channel-wide limit set later counts the messages already
/// unacknowledged, as RabbitMQ's limiter does (rabbit_limiter:limit_prefetch receives the unacked count).
/// <see cref="System.Threading.SemaphoreSlim"/> cannot do that: its capacity cannot shrink below what is taken.
/// Every member is lock-free; the counter changes with interlocked operations, which are full fences
/// (the dispatcher's wake-up protocol relies on that, see docs/dispatcher.md).
/// </remarks>
internal sealed class DeliveryCredit(int limit)
{
    private int _limit = limit;
    private int _inUse;

    public int Limit => Volatile.Read(ref _limit);

    /// <summary>Deliveries holding a credit: unacknowledged, or being delivered right now.</summary>
    public int InUse => Volatile.Read(ref _inUse);

    public bool IsAvailable
    {
        get
        {
            int limit = Limit;
            return limit == 0 || InUse < limit;
        }
    }

    public bool TryTake()
    {
        while (true)
        {
            int inUse = Volatile.Read(ref _inUse);
            int limit = Volatile.Read(ref _limit);
            if (limit != 0 && inUse >= limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inUse, inUse + 1, inUse) == inUse)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Gives one credit back. True when that reopened a full window: the only moment a returned credit makes
    /// possible a delivery that was not possible before, so the only moment worth waking anything for.
    /// </summary>
    public bool Return()
    {
        int inUse = Interlocked.Decrement(ref _inUse);
        int limit = Volatile.Read(ref _limit);
        return limit != 0 && inUse == limit - 1;
    }

    /// <summary>Changes the limit; true if it widened the window (removing a limit widens it).</summary>
    public bool SetLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        int previous = Interlocked.Exchange(ref _limit, limit);
        return previous != 0 && (limit == 0 || limit > previous);
    }
}
