using Gateway.Broker.Delivery;
using Gateway.Log;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>When a queue enters the run queue, how long it stays, and that no wake-up is lost or wasted.</summary>
public sealed class SchedulingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly RecordingTarget _target = new();

    [Fact]
    public void Queues_without_messages_or_without_consumers_are_never_scheduled()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        for (int i = 0; i < 1000; i++)
        {
            channel.Consume(dispatcher.CreateQueue($"empty-{i}").Queue, $"c{i}", noAck: false);
            dispatcher.CreateQueue($"unconsumed-{i}").Publish(5);
        }

        Assert.Equal(new DispatcherStatistics(0, 0, 0, 0), dispatcher.Statistics);
    }

    [Fact]
    public void Messages_for_a_consumer_without_credit_schedule_nothing_until_an_ack()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 1);
        channel.SetQos(1, global: false);
        channel.Consume(queue.Queue, "c", noAck: false);
        Assert.Equal(1, dispatcher.RunUntilIdle());

        for (int i = 0; i < 100; i++)
        {
            queue.Publish();
        }

        Assert.Equal(0, dispatcher.Statistics.Scheduled);
        channel.Ack(1, multiple: false);
        Assert.Equal(1, dispatcher.Statistics.Scheduled);
    }

    [Fact]
    public void An_ack_wakes_only_the_queue_of_the_consumer_it_gave_credit_to()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        channel.SetQos(1, global: false);
        var queues = Enumerable.Range(0, 10).Select(i => dispatcher.CreateQueue($"q{i}", messages: 2)).ToArray();
        foreach (var (queue, _) in queues)
        {
            channel.Consume(queue, queue.Name, noAck: false);
        }

        dispatcher.RunUntilIdle();
        var tagOfQ7 = _target.DeliveriesTo("q7").Single().DeliveryTag;

        channel.Ack(tagOfQ7, multiple: false);

        Assert.Same(queues[7].Queue, dispatcher.DispatchNext());
        Assert.Null(dispatcher.DispatchNext());
    }

    [Fact]
    public void A_queue_is_in_the_run_queue_at_most_once_however_many_wake_ups_it_gets()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "c", noAck: false);

        for (int i = 0; i < 100; i++)
        {
            queue.Publish();
        }

        Assert.Equal(1, dispatcher.Statistics.Scheduled);
        Assert.Equal(2, dispatcher.RunUntilIdle());
    }

    [Fact]
    public void A_burst_is_bounded_and_a_queue_with_work_left_goes_back_to_the_tail()
    {
        var dispatcher = ManualDispatch.Create(burstSize: 4);
        var channel = dispatcher.OpenChannel(_target);
        var busy = dispatcher.CreateQueue("busy", messages: 10);
        var other = dispatcher.CreateQueue("other");
        channel.Consume(busy.Queue, "busy", noAck: true);
        channel.Consume(other.Queue, "other", noAck: true);

        Assert.Same(busy.Queue, dispatcher.DispatchNext());
        Assert.Equal(4, _target.DeliveryCount);
        other.Publish();

        Assert.Same(busy.Queue, dispatcher.DispatchNext());
        Assert.Same(other.Queue, dispatcher.DispatchNext());
        Assert.Same(busy.Queue, dispatcher.DispatchNext());
        Assert.Null(dispatcher.DispatchNext());
        Assert.Equal(11, _target.DeliveryCount);
        Assert.Equal(3, busy.Queue.Dispatches);
    }

    [Fact]
    public async Task Idle_workers_are_not_woken_while_nothing_has_work()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 4 });
        var channel = dispatcher.OpenChannel(_target);

        // A thousand queues each of: consumed but empty; messages but no consumer; messages and a consumer that
        // cannot take them (its channel is paused, as when its output is full).
        channel.Pause();
        var queues = new List<DispatchQueue>();
        for (int i = 0; i < 1000; i++)
        {
            var empty = dispatcher.CreateQueue($"empty-{i}");
            channel.Consume(empty.Queue, empty.Queue.Name, noAck: false);
            var unconsumed = dispatcher.CreateQueue($"unconsumed-{i}", messages: 2);
            var blocked = dispatcher.CreateQueue($"blocked-{i}", messages: 2);
            channel.Consume(blocked.Queue, blocked.Queue.Name, noAck: false);
            queues.AddRange([empty.Queue, unconsumed.Queue, blocked.Queue]);
        }

        // An observation window, not a synchronisation: there is no timer or polling loop that could wake a
        // worker, and wake-ups of queues without work must not reach one.
        foreach (var queue in queues)
        {
            queue.NotifyMessagesAppended();
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(new DispatcherStatistics(WorkerWakeups: 0, Dispatches: 0, Scheduled: 0, FailedDispatches: 0), dispatcher.Statistics);

        // The counter is live: work wakes workers.
        channel.Resume();
        await _target.WaitForDeliveriesAsync(2000);
        Assert.True(dispatcher.Statistics.WorkerWakeups > 0);
    }

    [Fact]
    public async Task A_message_appended_while_its_queue_is_mid_burst_is_not_lost()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 1 });
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 1);
        using var inBurst = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        queue.Source.BeforeTake = BlockFirstTake(inBurst, release);
        channel.Consume(queue.Queue, "c", noAck: false);
        Assert.True(await inBurst.WaitAsync(Timeout));

        // The burst asked for the one message there was. This wake-up finds the queue still scheduled and does
        // nothing itself: the worker's re-check after the burst must see the new message.
        queue.Publish();
        Assert.True(queue.Queue.IsScheduled);
        release.Release();

        await _target.WaitForDeliveriesAsync(2);
        Assert.Equal([0L, 1], _target.Deliveries.Select(d => d.Message.Offset));
    }

    [Fact]
    public async Task A_message_appended_between_the_workers_last_check_and_its_clearing_the_flag_is_not_lost()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 1 });
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 1);
        using var checkedEmpty = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        int emptyReads = 0;

        // The first time the queue reads as empty is the worker's check after the burst that delivered the one
        // message: hold the worker there, after it saw no work and before it gives up the run-queue slot.
        queue.Source.OnReadyRead = ready =>
        {
            if (ready == 0 && Interlocked.Increment(ref emptyReads) == 1)
            {
                checkedEmpty.Release();
                release.Wait();
            }
        };
        channel.Consume(queue.Queue, "c", noAck: false);
        Assert.True(await checkedEmpty.WaitAsync(Timeout));

        // This wake-up sees the slot still taken and leaves the message to the worker: the worker must look
        // again after giving the slot up (Dekker's pattern, docs/dispatcher.md).
        queue.Publish();
        Assert.Equal(0, dispatcher.Statistics.Scheduled);
        release.Release();

        await _target.WaitForDeliveriesAsync(2);
        Assert.Equal([0L, 1], _target.Deliveries.Select(d => d.Message.Offset));
    }

    [Fact]
    public async Task Credit_returned_while_the_queue_is_mid_burst_is_not_lost()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 1 });
        var channel = dispatcher.OpenChannel(_target);
        channel.SetQos(1, global: false);
        var queue = dispatcher.CreateQueue("q", messages: 1);
        channel.Consume(queue.Queue, "a", noAck: false);
        await _target.WaitForDeliveriesAsync(1);

        using var inBurst = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        queue.Source.BeforeTake = BlockFirstTake(inBurst, release);
        channel.Consume(queue.Queue, "b", noAck: false);
        queue.Publish(2);
        Assert.True(await inBurst.WaitAsync(Timeout));

        // The burst reserved b's credit only (a was full) and is taking one message. a's credit comes back now.
        Assert.Equal(1, channel.Ack(1, multiple: false).Count);
        release.Release();

        await _target.WaitForDeliveriesAsync(3);
        Assert.Equal([("a", 0L), ("b", 1), ("a", 2)], _target.Deliveries.Select(d => (d.ConsumerTag, d.Message.Offset)));
    }

    [Fact]
    public void A_burst_that_throws_puts_back_what_it_took_and_parks_the_queue_until_its_next_wake_up()
    {
        var failures = new List<Exception>();
        var dispatcher = new DeliveryDispatcher(
            new DeliveryDispatcherOptions { DispatchFailed = (_, exception) => failures.Add(exception) }, startWorkers: false);
        var target = new ThrowingTarget { FailFrom = 2 };
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 5);
        var consumer = channel.Consume(queue.Queue, "c", noAck: false);

        Assert.Equal(1, dispatcher.RunUntilIdle());

        Assert.IsType<InvalidOperationException>(Assert.Single(failures));
        Assert.Equal(1, dispatcher.Statistics.FailedDispatches);
        Assert.Equal((2, 2), (channel.UnackedCount, consumer.UnackedCount));
        Assert.Equal([2L, 3, 4], queue.Source.RequeueOrder);
        Assert.Equal(3, queue.Source.Ready);

        target.FailFrom = int.MaxValue;
        queue.Queue.NotifyMessagesAppended();
        dispatcher.RunUntilIdle();
        Assert.Equal(5, channel.UnackedCount);
    }

    [Fact]
    public void A_queue_whose_storage_fails_is_reported_once_per_wake_up_and_never_retried_in_a_loop()
    {
        var failures = 0;
        var dispatcher = new DeliveryDispatcher(
            new DeliveryDispatcherOptions { DispatchFailed = (_, _) => failures++ }, startWorkers: false);
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", new FailingSource());

        // Wake-ups (here: consume, and a publish) do not fail themselves; the burst they schedule does, and reports it.
        channel.Consume(queue, "c", noAck: false);
        Assert.Equal(1, dispatcher.RunUntilIdle());
        Assert.Equal(0, dispatcher.RunUntilIdle());
        queue.NotifyMessagesAppended();
        Assert.Equal(1, dispatcher.RunUntilIdle());

        Assert.Equal((2, 2L), (failures, dispatcher.Statistics.FailedDispatches));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeliveryDispatcher(new DeliveryDispatcherOptions { BurstSize = 0 }));
    }

    private static Action BlockFirstTake(SemaphoreSlim inBurst, SemaphoreSlim release)
    {
        int takes = 0;
        return () =>
        {
            if (Interlocked.Increment(ref takes) == 1)
            {
                inBurst.Release();
                release.Wait();
            }
        };
    }

    /// <summary>A queue whose log cannot be read (a corrupt segment, say).</summary>
    private sealed class FailingSource : IQueueSource
    {
        public long Ready => throw new IOException("checksum mismatch");

        public IReadOnlyList<TakenMessage> Take(int maxCount) => throw new IOException("checksum mismatch");

        public bool Settle(long offset) => throw new IOException("checksum mismatch");

        public bool Requeue(long offset) => throw new IOException("checksum mismatch");
    }

    /// <summary>A server-side target that fails from its <see cref="FailFrom"/>-th delivery on (counting from 0).</summary>
    private sealed class ThrowingTarget : IDeliveryTarget
    {
        private int _delivered;

        public int FailFrom { get; set; }

        public void Deliver(in ConsumerDelivery delivery)
        {
            if (_delivered >= FailFrom)
            {
                throw new InvalidOperationException("connection output failed");
            }

            _delivered++;
        }

        public void DeliverGetOk(in GetDelivery delivery) => throw new NotSupportedException();

        public void ConsumerCancelled(string consumerTag) => throw new NotSupportedException();
    }
}
