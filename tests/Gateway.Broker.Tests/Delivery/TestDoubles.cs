using Gateway.Broker.Delivery;
using Gateway.Log;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>
/// An in-memory queue with the log's consumption rules: offsets from 0, requeued messages first in offset
/// order and flagged redelivered. Records every settle and requeue, and counts the ones that named a
/// message not in flight (the exactly-once checks look at those).
/// </summary>
internal sealed class FakeQueueSource(string name) : IQueueSource
{
    private readonly Lock _lock = new();
    private readonly SortedSet<long> _requeued = [];
    private readonly HashSet<long> _inFlight = [];
    private readonly List<long> _settled = [];
    private readonly List<long> _requeueOrder = [];
    private long _end;
    private long _nextFresh;
    private int _invalidSettles;

    public string Name { get; } = name;

    /// <summary>Runs at the start of every <see cref="Take"/>, on the taking thread (tests block a burst in it).</summary>
    public Action? BeforeTake { get; set; }

    /// <summary>Runs after every successful <see cref="Requeue"/>, inside the source's lock.</summary>
    public Action<long>? OnRequeue { get; set; }

    /// <summary>
    /// Runs on every read of <see cref="Ready"/> with the value read, before it is returned (tests block a
    /// worker's check in it).
    /// </summary>
    public Action<long>? OnReadyRead { get; set; }

    public long Ready
    {
        get
        {
            long ready;
            lock (_lock)
            {
                ready = _end - _nextFresh + _requeued.Count;
            }

            OnReadyRead?.Invoke(ready);
            return ready;
        }
    }

    public IReadOnlyList<long> Settled
    {
        get
        {
            lock (_lock)
            {
                return [.. _settled];
            }
        }
    }

    /// <summary>Offsets in the order they were requeued.</summary>
    public IReadOnlyList<long> RequeueOrder
    {
        get
        {
            lock (_lock)
            {
                return [.. _requeueOrder];
            }
        }
    }

    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Settles and requeues of an offset that was not in flight: a double settle or worse.</summary>
    public int InvalidSettles => Volatile.Read(ref _invalidSettles);

    /// <summary>Appends messages (as a completed log append would) without waking anything.</summary>
    public void Append(int count = 1)
    {
        lock (_lock)
        {
            _end += count;
        }
    }

    public IReadOnlyList<TakenMessage> Take(int maxCount)
    {
        BeforeTake?.Invoke();
        lock (_lock)
        {
            var taken = new List<TakenMessage>();
            while (taken.Count < maxCount && _requeued.Count > 0)
            {
                long offset = _requeued.Min;
                _requeued.Remove(offset);
                _inFlight.Add(offset);
                taken.Add(new TakenMessage(Message(offset), Redelivered: true));
            }

            while (taken.Count < maxCount && _nextFresh < _end)
            {
                long offset = _nextFresh++;
                _inFlight.Add(offset);
                taken.Add(new TakenMessage(Message(offset), Redelivered: false));
            }

            return taken;
        }
    }

    public bool Settle(long offset)
    {
        lock (_lock)
        {
            if (!_inFlight.Remove(offset))
            {
                _invalidSettles++;
                return false;
            }

            _settled.Add(offset);
            return true;
        }
    }

    public bool Requeue(long offset)
    {
        lock (_lock)
        {
            if (!_inFlight.Remove(offset))
            {
                _invalidSettles++;
                return false;
            }

            _requeued.Add(offset);
            _requeueOrder.Add(offset);
            OnRequeue?.Invoke(offset);
            return true;
        }
    }

    private StoredMessage Message(long offset) => new(Name, offset, offset, 0, 0, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
}

/// <summary>A channel's output as the server would see it: every call, in order, plus waits on the count of deliveries.</summary>
internal sealed class RecordingTarget : IDeliveryTarget
{
    private readonly Lock _lock = new();
    private readonly List<ConsumerDelivery> _deliveries = [];
    private readonly List<GetDelivery> _gets = [];
    private readonly List<string> _cancelled = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

    /// <summary>Runs on the delivering thread, inside the channel's delivery lock.</summary>
    public Action<ConsumerDelivery>? OnDeliver { get; set; }

    public IReadOnlyList<ConsumerDelivery> Deliveries
    {
        get
        {
            lock (_lock)
            {
                return [.. _deliveries];
            }
        }
    }

    public IReadOnlyList<GetDelivery> Gets
    {
        get
        {
            lock (_lock)
            {
                return [.. _gets];
            }
        }
    }

    public IReadOnlyList<string> Cancelled
    {
        get
        {
            lock (_lock)
            {
                return [.. _cancelled];
            }
        }
    }

    public int DeliveryCount
    {
        get
        {
            lock (_lock)
            {
                return _deliveries.Count;
            }
        }
    }

    public IReadOnlyList<ConsumerDelivery> DeliveriesTo(string consumerTag) => [.. Deliveries.Where(d => d.ConsumerTag == consumerTag)];

    public void Deliver(in ConsumerDelivery delivery)
    {
        OnDeliver?.Invoke(delivery);
        lock (_lock)
        {
            _deliveries.Add(delivery);
            foreach (var waiter in _waiters.Where(w => w.Count <= _deliveries.Count).ToList())
            {
                waiter.Reached.SetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    public void DeliverGetOk(in GetDelivery delivery)
    {
        lock (_lock)
        {
            _gets.Add(delivery);
        }
    }

    public void ConsumerCancelled(string consumerTag)
    {
        lock (_lock)
        {
            _cancelled.Add(consumerTag);
        }
    }

    /// <summary>
    /// Completes once <paramref name="count"/> deliveries in all have been made; fails the test after a
    /// generous timeout.
    /// </summary>
    public Task WaitForDeliveriesAsync(int count)
    {
        lock (_lock)
        {
            if (_deliveries.Count >= count)
            {
                return Task.CompletedTask;
            }

            // Continuations must not run inside the channel's delivery lock, on the worker.
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}

internal static class ManualDispatch
{
    /// <summary>A dispatcher without workers: the test runs every dispatch on its own thread, deterministically.</summary>
    public static DeliveryDispatcher Create(int burstSize = 64, TimeProvider? time = null) =>
        new(new DeliveryDispatcherOptions { BurstSize = burstSize, Time = time ?? TimeProvider.System }, startWorkers: false);

    /// <summary>Runs dispatches until nothing is scheduled; returns how many ran.</summary>
    public static int RunUntilIdle(this DeliveryDispatcher dispatcher)
    {
        int dispatches = 0;
        while (dispatcher.DispatchNext() is not null)
        {
            if (++dispatches > 1_000_000)
            {
                throw new InvalidOperationException("the dispatcher never became idle");
            }
        }

        return dispatches;
    }

    /// <summary>A queue over a fresh in-memory source holding <paramref name="messages"/> messages.</summary>
    public static (DispatchQueue Queue, FakeQueueSource Source) CreateQueue(
        this DeliveryDispatcher dispatcher, string name, int messages = 0)
    {
        var source = new FakeQueueSource(name);
        source.Append(messages);
        return (dispatcher.CreateQueue(name, source), source);
    }

    /// <summary>Appends and tells the dispatcher, as the publish path does after a log append.</summary>
    public static void Publish(this (DispatchQueue Queue, FakeQueueSource Source) queue, int count = 1)
    {
        queue.Source.Append(count);
        queue.Queue.NotifyMessagesAppended(count: count);
    }
}
