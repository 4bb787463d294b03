namespace Gateway.Broker.Delivery;

/// <summary>Settings of a <see cref="DeliveryDispatcher"/>.</summary>
public sealed record DeliveryDispatcherOptions
{
    /// <summary>Dispatch worker threads; at least 1. They only run while some queue has work.</summary>
    public int WorkerCount { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Most messages one queue delivers before going back to the end of the run queue. Smaller is fairer
    /// (a queue waits at most one burst of every other busy queue); larger amortises the scheduling cost.
    /// </summary>
    public int BurstSize { get; init; } = 64;

    /// <summary>
    /// Called on the worker thread when a burst throws (a log read failed, or a target threw). The queue is
    /// then left unscheduled until its next wake-up rather than retried in a loop; the messages the burst
    /// had taken but not delivered are put back. Must not throw.
    /// </summary>
    public Action<DispatchQueue, Exception>? DispatchFailed { get; init; }

    /// <summary>
    /// How long a delivery may stay unacknowledged before its channel is closed (RabbitMQ's consumer_timeout,
    /// 30 minutes by default since 3.8.15); a queue's x-consumer-timeout overrides it (<see
    /// cref="DispatchQueue.ConsumerTimeout"/>). Null: no limit.
    /// </summary>
    public TimeSpan? ConsumerTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a channel with unacknowledged deliveries looks for one past its timeout.</summary>
    public TimeSpan ConsumerTimeoutCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock delivery times and the timeout check use (tests inject one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(WorkerCount, 1, nameof(WorkerCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(BurstSize, 1, nameof(BurstSize));
    }
}
