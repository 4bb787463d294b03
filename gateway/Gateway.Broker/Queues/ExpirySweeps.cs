using Gateway.Broker.Delays;

namespace Gateway.Broker.Queues;

/// <summary>
/// Runs a queue's expiry sweeps (RabbitMQ drops expired messages from a queue's head on a timer) one at a
/// time on the thread pool, and keeps the one timer set for the head's expiry. A request that arrives during a
/// sweep (an append to an empty queue, a requeue) gets another sweep after it. Shared by plain queues and
/// priority queues, which differ only in what a sweep walks.
/// </summary>
/// <param name="time">The clock (tests inject a fake one).</param>
/// <param name="sweep">Drops what has expired and returns when the next message expires (Unix ms), or <see cref="long.MaxValue"/> if none will.</param>
internal sealed class ExpirySweeps(TimeProvider time, Func<long> sweep) : IDisposable
{
    private readonly Lock _timerLock = new();
    private ITimer? _timer;
    private long _timerDue = long.MaxValue;   // Unix ms the timer is set for; MaxValue: not set
    private int _requests;   // sweeps asked for since the running one started; the first one queues it
    private volatile bool _disposed;

    /// <summary>Whether the timer is set for a coming expiry (if so, a new message behind the head needs no sweep now).</summary>
    public bool TimerSet => Volatile.Read(ref _timerDue) != long.MaxValue;

    public void Request()
    {
        if (!_disposed && Interlocked.Increment(ref _requests) == 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static sweeps => sweeps.SweepWhileAsked(), this, preferLocal: false);
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

    private void SweepWhileAsked()
    {
        int requests = Volatile.Read(ref _requests);
        do
        {
            SetTimer(sweep());
        }
        while ((requests = Interlocked.Add(ref _requests, -requests)) != 0 && !_disposed);
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

            // An expiration may lie beyond a timer's range: an early sweep finds nothing expired and sets it again.
            TimeSpan delay = TimerStep.Toward(due - time.GetUtcNow().ToUnixTimeMilliseconds());
            if (_timer is null)
            {
                _timer = time.CreateTimer(static state => ((ExpirySweeps)state!).OnTimer(), this, delay, Timeout.InfiniteTimeSpan);
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
        Request();
    }
}
