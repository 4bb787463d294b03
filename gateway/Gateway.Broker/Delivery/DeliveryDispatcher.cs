using Gateway.Broker.Traffic;

namespace Gateway.Broker.Delivery;

/// <summary>
/// Push delivery for every queue of a gateway with a small fixed set of worker threads (DESIGN.md, "Push
/// delivery"). A queue that has both ready messages and a consumer with credit waits in a FIFO run queue;
/// a worker takes it, delivers at most <see cref="DeliveryDispatcherOptions.BurstSize"/> messages, and puts
/// it back at the tail if it still has work. Idle queues cost nothing: they are only scheduled by the events
/// that give them work. Design, fairness argument and wake-up protocol: docs/dispatcher.md.
/// </summary>
public sealed class DeliveryDispatcher : IDisposable
{
    private readonly DeliveryDispatcherOptions _options;
    private readonly RunQueue _runQueue = new();
    private readonly Thread[] _workers;
    private long _failedDispatches;

    public DeliveryDispatcher(DeliveryDispatcherOptions? options = null)
        : this(options ?? new DeliveryDispatcherOptions(), startWorkers: true)
    {
    }

    /// <summary>Without workers, tests drive dispatches one at a time on their own thread with <see cref="DispatchNext"/>.</summary>
    internal DeliveryDispatcher(DeliveryDispatcherOptions options, bool startWorkers)
    {
        options.Validate();
        _options = options;
        _workers = startWorkers ? new Thread[options.WorkerCount] : [];
        for (int i = 0; i < _workers.Length; i++)
        {
            // Dedicated threads rather than thread-pool tasks: a burst reads the log synchronously and must not
            // starve the pool that runs the connections.
            _workers[i] = new Thread(RunWorker) { IsBackground = true, Name = $"delivery-dispatch-{i}" };
            _workers[i].Start();
        }
    }

    public DeliveryDispatcherOptions Options => _options;

    public DispatcherStatistics Statistics
    {
        get
        {
            var (workerWakeups, dispatches, waiting) = _runQueue.Counters;
            return new DispatcherStatistics(workerWakeups, dispatches, waiting, Interlocked.Read(ref _failedDispatches));
        }
    }

    /// <summary>Makes a queue known to the dispatcher; it is scheduled only once it has consumers and messages.</summary>
    public DispatchQueue CreateQueue(string name, IQueueSource source)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(source);
        return new DispatchQueue(this, name, source);
    }

    /// <summary>
    /// The delivery side of a new AMQP channel, delivering to <paramref name="target"/>; <paramref name="client"/>
    /// is its connection as scoped pauses match it (docs/traffic-control.md).
    /// </summary>
    public DeliveryChannel OpenChannel(IDeliveryTarget target, ClientIdentity? client = null, int number = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new DeliveryChannel(this, target, client ?? ClientIdentity.Unknown, number);
    }

    /// <summary>Stops the workers after their current burst. Scheduled queues are not served any more.</summary>
    public void Dispose()
    {
        _runQueue.Stop();
        foreach (var worker in _workers)
        {
            worker.Join();
        }
    }

    /// <summary>
    /// The one wake-up: called after something that may have given <paramref name="queue"/> work happened
    /// (messages appended or requeued, credit returned, a consumer added, a channel resumed). Schedules the
    /// queue if it now has work and is not already scheduled. Why no wake-up is lost: docs/dispatcher.md.
    /// </summary>
    internal void Wake(DispatchQueue queue)
    {
        // The caller's change (an append, a credit) must be visible before the scheduled flag is read: with a
        // worker that clears the flag and then re-checks for work, this is Dekker's pattern, which needs a full
        // fence on both sides (the worker's is the interlocked clear).
        Interlocked.MemoryBarrier();
        if (queue.IsScheduled || !queue.HasWork())
        {
            return;
        }

        if (queue.TryMarkScheduled())
        {
            _runQueue.Enqueue(queue);
        }
    }

    internal bool Owns(DispatchQueue queue) => queue.Dispatcher == this;

    /// <summary>Serves the queue at the head of the run queue on the calling thread; null if none is scheduled.</summary>
    internal DispatchQueue? DispatchNext()
    {
        if (!_runQueue.TryDequeue(wait: false, out var queue))
        {
            return null;
        }

        Dispatch(queue);
        return queue;
    }

    private void RunWorker()
    {
        while (_runQueue.TryDequeue(wait: true, out var queue))
        {
            Dispatch(queue);
        }
    }

    private void Dispatch(DispatchQueue queue)
    {
        try
        {
            queue.RunBurst(_options.BurstSize);
        }
        catch (Exception exception)
        {
            // Parked, not retried: a persistent failure (a corrupt segment) must not spin a worker. The next
            // wake-up tries again.
            Interlocked.Increment(ref _failedDispatches);
            queue.ClearScheduled();
            _options.DispatchFailed?.Invoke(queue, exception);
            return;
        }

        if (queue.HasWork())
        {
            // Still scheduled: straight back to the tail, behind every queue that became ready meanwhile.
            _runQueue.Enqueue(queue);
            return;
        }

        queue.ClearScheduled();

        // A message or credit that arrived during the burst found the flag set and relied on this re-check.
        Wake(queue);
    }
}

/// <summary>Counters of a <see cref="DeliveryDispatcher"/>.</summary>
/// <param name="WorkerWakeups">Times a sleeping worker was woken; constant while no queue has work.</param>
/// <param name="Dispatches">Bursts run (a queue taken off the run queue).</param>
/// <param name="Scheduled">Queues waiting in the run queue now.</param>
/// <param name="FailedDispatches">Bursts that threw (see <see cref="DeliveryDispatcherOptions.DispatchFailed"/>).</param>
public readonly record struct DispatcherStatistics(long WorkerWakeups, long Dispatches, int Scheduled, long FailedDispatches);
