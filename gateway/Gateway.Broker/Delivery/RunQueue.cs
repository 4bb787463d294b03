namespace Gateway.Broker.Delivery;

/// <summary>
/// The dispatcher's run queue: a FIFO of the queues that have work, which the workers block on while it is
/// empty. A queue is in it at most once (<see cref="DispatchQueue"/>'s scheduled flag guards that), so the
/// FIFO is a round: everything ahead of a queue is served once before it. See docs/dispatcher.md.
/// </summary>
/// <remarks>
/// A lock and a <see cref="Queue{T}"/> rather than System.Threading.Channels: the workers run synchronous
/// code (log reads) on dedicated threads, so asynchronous waiting buys nothing; and numbering the dispatches
/// (for <see cref="DispatchQueue.LongestWait"/>) must happen atomically with the enqueue and dequeue,
/// which a channel does not expose. The lock is taken once per burst of up to
/// <see cref="DeliveryDispatcherOptions.BurstSize"/> messages, not per message.
/// </remarks>
internal sealed class RunQueue
{
    // Monitor rather than System.Threading.Lock: idle workers need Monitor.Wait/Pulse on it.
    private readonly object _gate = new();
    private readonly Queue<DispatchQueue> _queues = new();

    // Queues taken off the run queue so far, each for one burst.
    private long _dispatches;

    // How often a sleeping worker was woken: stays put while nothing has work.
    private long _workerWakeups;
    private int _sleepingWorkers;
    private bool _stopped;

    /// <summary>The counters, read together: worker wake-ups, dispatches so far, and queues waiting now.</summary>
    public (long WorkerWakeups, long Dispatches, int Waiting) Counters
    {
        get
        {
            lock (_gate)
            {
                return (_workerWakeups, _dispatches, _queues.Count);
            }
        }
    }

    /// <summary>Appends a queue whose scheduled flag the caller has just set (or kept, after a burst).</summary>
    public void Enqueue(DispatchQueue queue)
    {
        lock (_gate)
        {
            queue.ScheduledAtDispatch = _dispatches;
            _queues.Enqueue(queue);
            if (_sleepingWorkers > 0)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>
    /// Takes the queue at the head; with <paramref name="wait"/>, sleeps until there is one. False when empty
    /// and not waiting, or once stopped.
    /// </summary>
    public bool TryDequeue(bool wait, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DispatchQueue? queue)
    {
        lock (_gate)
        {
            while (_queues.Count == 0 || _stopped)
            {
                if (!wait || _stopped)
                {
                    queue = null;
                    return false;
                }

                _sleepingWorkers++;
                Monitor.Wait(_gate);
                _sleepingWorkers--;
                _workerWakeups++;
            }

            queue = _queues.Dequeue();
            queue.RecordDispatch(_dispatches - queue.ScheduledAtDispatch);
            _dispatches++;
            return true;
        }
    }

    /// <summary>Wakes every worker and makes <see cref="TryDequeue"/> return false from now on.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            Monitor.PulseAll(_gate);
        }
    }
}
