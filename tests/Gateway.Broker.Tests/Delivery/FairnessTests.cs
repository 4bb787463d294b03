using Gateway.Broker.Delivery;
using Gateway.Log;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>
/// DESIGN.md: "A hot queue must never delay a cold one beyond one dispatch round. This is measured, not assumed."
/// Measured here in dispatches (bursts), not in time.
/// </summary>
public sealed class FairnessTests
{
    private const int ColdQueues = 1000;
    private const int BurstSize = 64;

    [Fact]
    public void A_cold_message_waits_for_at_most_one_burst_of_a_hot_queue_that_never_runs_dry()
    {
        var dispatcher = ManualDispatch.Create(BurstSize);
        var target = new RecordingTarget();
        int hotDelivered = 0;
        target.OnDeliver = delivery => hotDelivered += delivery.ConsumerTag == "hot" ? 1 : 0;
        var channel = dispatcher.OpenChannel(target);
        var hot = dispatcher.CreateQueue("hot");
        channel.Consume(hot.Queue, "hot", noAck: true);
        var cold = Enumerable.Range(0, ColdQueues).Select(i => dispatcher.CreateQueue($"cold-{i}")).ToArray();
        var coldIndex = new Dictionary<DispatchQueue, int>();
        for (int i = 0; i < ColdQueues; i++)
        {
            channel.Consume(cold[i].Queue, cold[i].Queue.Name, noAck: true);
            coldIndex.Add(cold[i].Queue, i);
        }

        // One dispatch per step, on this thread. Before each, the hot queue is topped up so it always has
        // more than a burst ready, and during the first 1000 steps one cold queue gets one message.
        var scheduledAheadOnArrival = new int[ColdQueues];
        var hotDeliveredOnArrival = new int[ColdQueues];
        var hotDeliveredWhileWaiting = new int[ColdQueues];
        var servedAtStep = new int[ColdQueues];
        var hotServedAtSteps = new List<int>();
        int coldServed = 0;
        for (int step = 0; coldServed < ColdQueues; step++)
        {
            Assert.True(step < 10 * ColdQueues, "cold queues starved");
            if (hot.Source.Ready < 2 * BurstSize)
            {
                hot.Publish(10 * BurstSize);
            }

            if (step < ColdQueues)
            {
                scheduledAheadOnArrival[step] = dispatcher.Statistics.Scheduled;
                hotDeliveredOnArrival[step] = hotDelivered;
                cold[step].Publish();
            }

            int hotDeliveredBeforeStep = hotDelivered;
            var served = dispatcher.DispatchNext();
            Assert.NotNull(served);
            if (served == hot.Queue)
            {
                hotServedAtSteps.Add(step);
            }
            else
            {
                int i = coldIndex[served];
                servedAtStep[i] = step;
                hotDeliveredWhileWaiting[i] = hotDeliveredBeforeStep - hotDeliveredOnArrival[i];
                coldServed++;
            }
        }

        for (int i = 0; i < ColdQueues; i++)
        {
            // The hot queue delayed it by one burst at most, however much it had ready.
            Assert.True(hotDeliveredWhileWaiting[i] <= BurstSize, $"cold-{i} waited for {hotDeliveredWhileWaiting[i]} hot messages");

            // Everything served before it was in the run queue ahead of it when it arrived: one round, no more.
            int dispatchesWhileWaiting = servedAtStep[i] - i;
            Assert.True(dispatchesWhileWaiting <= scheduledAheadOnArrival[i], $"cold-{i} waited {dispatchesWhileWaiting} dispatches");
            Assert.Equal(dispatchesWhileWaiting, cold[i].Queue.LongestWait);
            Assert.Single(target.DeliveriesTo(cold[i].Queue.Name));
        }

        // The hot queue was not starved either: served from the first step to the last round, once per round.
        Assert.Equal(0, hotServedAtSteps[0]);
        Assert.True(hotServedAtSteps[^1] >= ColdQueues, "the hot queue stopped being served");
        Assert.True(hotServedAtSteps.Zip(hotServedAtSteps.Skip(1)).All(pair => pair.Second - pair.First <= ColdQueues + 1));
    }

    [Fact]
    public async Task With_workers_racing_every_cold_queue_is_served_within_one_round()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 4, BurstSize = BurstSize });
        var hotTarget = new CountingTarget();
        var coldTarget = new RecordingTarget();

        // The hot queue never runs dry, however the machine schedules the test's threads; a publisher thread
        // keeps announcing appends to it, so its wake-ups race with the workers' scheduling.
        var hot = dispatcher.CreateQueue("hot", new EndlessSource());
        dispatcher.OpenChannel(hotTarget).Consume(hot, "hot", noAck: true);
        var coldChannel = dispatcher.OpenChannel(coldTarget);
        var cold = Enumerable.Range(0, ColdQueues).Select(i => dispatcher.CreateQueue($"cold-{i}")).ToArray();
        foreach (var (queue, _) in cold)
        {
            coldChannel.Consume(queue, queue.Name, noAck: true);
        }

        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                hot.NotifyMessagesAppended();
            }
        });

        await hotTarget.WaitForDeliveriesAsync(100 * BurstSize);
        foreach (var queue in cold)
        {
            queue.Publish();
        }

        await coldTarget.WaitForDeliveriesAsync(ColdQueues);
        await stop.CancelAsync();
        await publisher;

        // Between being scheduled and being served, a cold queue saw at most one dispatch of each other queue
        // with work: the other 999 cold queues and the hot one. Four workers racing do not change that.
        Assert.All(cold, queue => Assert.InRange(queue.Queue.LongestWait, 0, ColdQueues));
    }

    /// <summary>A queue that always has messages ready: the limit of "continuously refilled".</summary>
    private sealed class EndlessSource : IQueueSource
    {
        private long _next;

        public long Ready => long.MaxValue;

        public IReadOnlyList<TakenMessage> Take(int maxCount)
        {
            long first = Interlocked.Add(ref _next, maxCount) - maxCount;
            return [.. Enumerable.Range(0, maxCount).Select(i => new TakenMessage(Message(first + i), Redelivered: false))];
        }

        public bool Settle(long offset) => true;

        public bool Requeue(long offset) => throw new NotSupportedException();

        private static StoredMessage Message(long offset) =>
            new("hot", offset, offset, 0, 0, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>Counts deliveries without keeping them: the hot queue makes millions.</summary>
    private sealed class CountingTarget : IDeliveryTarget
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _deliveries;
        private int _awaited = int.MaxValue;

        public void Deliver(in ConsumerDelivery delivery)
        {
            if (Interlocked.Increment(ref _deliveries) >= Volatile.Read(ref _awaited))
            {
                _reached.TrySetResult();
            }
        }

        public void DeliverGetOk(in GetDelivery delivery) => throw new NotSupportedException();

        public void ConsumerCancelled(string consumerTag) => throw new NotSupportedException();

        /// <summary>Completes once <paramref name="count"/> deliveries have been made; one wait per target.</summary>
        public Task WaitForDeliveriesAsync(int count)
        {
            Volatile.Write(ref _awaited, count);
            if (Volatile.Read(ref _deliveries) >= count)
            {
                _reached.TrySetResult();
            }

            return _reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
