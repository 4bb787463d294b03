using Gateway.Broker.Delays;

namespace Gateway.Broker.Queues;

/// <summary>
/// x-expires: a queue left unused for its expiry period is deleted. Unused, as RabbitMQ defines it: no
/// consumers, not redeclared, no basic.get for the whole period (rabbitmq.com/ttl, "Queue TTL"). Each
/// use renews the lease; while consumers are attached it cannot expire, and the last one leaving renews it.
/// </summary>
internal sealed class QueueLease : IDisposable
{
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly Func<bool> _inUse;
    private readonly Action _expire;
    private readonly ITimer _timer;
    private long _deadline;   // Unix ms the queue expires at unless used before
    private int _expired;

    /// <param name="inUse">Whether consumers are attached now (the lease is then only renewed when they go).</param>
    /// <param name="expire">Deletes the queue; called at most once, on a timer thread.</param>
    public QueueLease(TimeSpan period, TimeProvider time, Func<bool> inUse, Action expire)
    {
        _period = period;
        _time = time;
        _inUse = inUse;
        _expire = expire;
        _timer = time.CreateTimer(static state => ((QueueLease)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Renew();
    }

    /// <summary>The queue was used: a full period starts again.</summary>
    public void Renew()
    {
        if (Volatile.Read(ref _expired) == 0)
        {
            Volatile.Write(ref _deadline, _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)_period.TotalMilliseconds);
            // x-expires may be up to 2^32-1 ms, one more than a timer can wait: fired early, it is set again for the rest.
            _timer.Change(TimerStep.Toward(_period), Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void OnTimer()
    {
        long remaining = Volatile.Read(ref _deadline) - _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (remaining > 0)
        {
            _timer.Change(TimerStep.Toward(remaining), Timeout.InfiniteTimeSpan);
            return;
        }

        if (!_inUse() && Interlocked.Exchange(ref _expired, 1) == 0)
        {
            _expire();
        }
    }
}
