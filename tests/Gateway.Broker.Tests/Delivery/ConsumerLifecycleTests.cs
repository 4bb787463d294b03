using Gateway.Broker.Delivery;
using Gateway.Log;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>basic.consume, basic.cancel, queue deletion, channel close and pausing a channel.</summary>
public sealed class ConsumerLifecycleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly RecordingTarget _target = new();

    [Fact]
    public void A_cancelled_consumer_receives_nothing_more_and_its_unacked_deliveries_stay_on_the_channel()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 2);
        var consumer = channel.Consume(queue.Queue, "c", noAck: false);
        dispatcher.RunUntilIdle();

        Assert.True(channel.Cancel("c"));
        queue.Publish(3);
        dispatcher.RunUntilIdle();

        Assert.True(consumer.IsCancelled);
        Assert.Equal(2, _target.DeliveryCount);
        Assert.Equal(2, channel.UnackedCount);
        Assert.Equal(2, channel.Ack(2, multiple: true).Count);
        Assert.Equal([0L, 1], queue.Source.Settled);
        Assert.False(channel.Cancel("c"));
    }

    [Fact]
    public async Task Cancel_returns_only_after_a_burst_delivering_to_the_consumer_has_finished()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 1 });
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 3);
        using var inBurst = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        queue.Source.BeforeTake = () =>
        {
            inBurst.Release();
            release.Wait();
        };
        channel.Consume(queue.Queue, "c", noAck: false);
        Assert.True(await inBurst.WaitAsync(Timeout));

        // An observation window: Cancel must still be waiting for the burst when it closes.
        var cancel = Task.Run(() => channel.Cancel("c"));
        await Task.WhenAny(cancel, Task.Delay(TimeSpan.FromMilliseconds(200)));
        Assert.False(cancel.IsCompleted, "cancel returned while a delivery to the consumer was under way");
        release.Release();

        Assert.True(await cancel.WaitAsync(Timeout));
        Assert.Equal(3, _target.DeliveryCount);
        queue.Source.BeforeTake = null;
        queue.Publish();
        Assert.Equal(0, dispatcher.Statistics.Scheduled);
        Assert.Equal(3, _target.DeliveryCount);
    }

    [Fact]
    public void Deleting_the_queue_cancels_its_consumers_and_tells_their_channels()
    {
        var dispatcher = ManualDispatch.Create();
        var otherTarget = new RecordingTarget();
        var channel = dispatcher.OpenChannel(_target);
        var otherChannel = dispatcher.OpenChannel(otherTarget);
        var queue = dispatcher.CreateQueue("q", messages: 2);
        var kept = dispatcher.CreateQueue("kept");
        var a = channel.Consume(queue.Queue, "a", noAck: false);
        var b = otherChannel.Consume(queue.Queue, "b", noAck: false);
        channel.Consume(kept.Queue, "k", noAck: false);
        dispatcher.RunUntilIdle();

        queue.Queue.Delete();

        Assert.True(a.IsCancelled && b.IsCancelled && queue.Queue.IsDeleted);
        Assert.Equal(["a"], _target.Cancelled);
        Assert.Equal(["b"], otherTarget.Cancelled);
        Assert.False(channel.HasConsumer("a"));
        Assert.True(channel.HasConsumer("k"));
        Assert.Equal(0, queue.Queue.ConsumerCount);
    }

    [Fact]
    public void Deliveries_of_a_deleted_queue_can_still_be_acked_and_are_not_requeued_on_close()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 3);
        channel.Consume(queue.Queue, "c", noAck: false);
        dispatcher.RunUntilIdle();

        queue.Queue.Delete();

        // RabbitMQ accepts the ack of a message whose queue is gone; there is nothing left to settle.
        Assert.Equal(1, channel.Ack(1, multiple: false).Count);
        channel.Close();
        Assert.Empty(queue.Source.Settled);
        Assert.Empty(queue.Source.RequeueOrder);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_ack_or_requeue_racing_with_the_queues_deletion_succeeds(bool requeue)
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var source = new DeletedWhileSettlingSource();
        var queue = dispatcher.CreateQueue("q", source);
        source.Queue = queue;
        channel.Consume(queue, "c", noAck: false);
        dispatcher.RunUntilIdle();

        Assert.Equal(1, channel.Nack(1, multiple: false, requeue).Count);
        Assert.True(queue.IsDeleted);
    }

    [Fact]
    public void Consuming_from_a_queue_deleted_meanwhile_gives_a_consumer_cancelled_by_the_broker()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q", messages: 1);
        queue.Queue.Delete();

        var consumer = channel.Consume(queue.Queue, "c", noAck: false);
        dispatcher.RunUntilIdle();

        Assert.True(consumer.IsCancelled);
        Assert.Equal(["c"], _target.Cancelled);
        Assert.False(channel.HasConsumer("c"));
        Assert.Empty(_target.Deliveries);
    }

    [Fact]
    public void A_consumer_the_client_cancelled_is_not_cancelled_again_by_the_broker()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "c", noAck: false);

        channel.Cancel("c");
        queue.Queue.Delete();

        Assert.Empty(_target.Cancelled);
    }

    [Fact]
    public void A_consumer_tag_in_use_on_the_channel_is_refused_but_free_on_another_channel()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "c", noAck: false);

        Assert.True(channel.HasConsumer("c"));
        Assert.Throws<InvalidOperationException>(() => channel.Consume(queue.Queue, "c", noAck: true));
        dispatcher.OpenChannel(new RecordingTarget()).Consume(queue.Queue, "c", noAck: false);
        Assert.Equal(2, queue.Queue.ConsumerCount);
    }

    [Fact]
    public void A_queue_of_another_dispatcher_is_refused()
    {
        var channel = ManualDispatch.Create().OpenChannel(_target);
        var foreign = ManualDispatch.Create().CreateQueue("q");

        Assert.Throws<ArgumentException>(() => channel.Consume(foreign.Queue, "c", noAck: false));
    }

    [Fact]
    public void Closing_a_channel_cancels_its_consumers_and_refuses_further_use()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        var consumer = channel.Consume(queue.Queue, "c", noAck: false);

        channel.Close();
        channel.Close();
        queue.Publish();
        dispatcher.RunUntilIdle();

        Assert.True(consumer.IsCancelled);
        Assert.Empty(_target.Deliveries);
        Assert.Empty(_target.Cancelled);
        Assert.Throws<InvalidOperationException>(() => channel.Consume(queue.Queue, "d", noAck: false));
        Assert.Throws<InvalidOperationException>(() => channel.Get(queue.Queue, noAck: false));
    }

    [Fact]
    public void A_paused_channel_gets_nothing_even_no_ack_and_resuming_delivers_what_waited()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "c", noAck: true);

        channel.Pause();
        queue.Publish(5);
        Assert.Equal(0, dispatcher.RunUntilIdle());

        channel.Resume();
        dispatcher.RunUntilIdle();
        Assert.Equal(5, _target.DeliveryCount);
    }

    /// <summary>
    /// A queue deleted, and its topic with it, while a settle or requeue is on its way to the log: the log then
    /// throws, as the embedded log does for a topic that no longer exists.
    /// </summary>
    private sealed class DeletedWhileSettlingSource : IQueueSource
    {
        private readonly FakeQueueSource _inner = new("q");

        public DeletedWhileSettlingSource() => _inner.Append();

        public DispatchQueue? Queue { get; set; }

        public long Ready => _inner.Ready;

        public IReadOnlyList<TakenMessage> Take(int maxCount) => _inner.Take(maxCount);

        public bool Settle(long offset) => DeleteAndThrow();

        public bool Requeue(long offset) => DeleteAndThrow();

        private bool DeleteAndThrow()
        {
            Queue!.Delete();
            throw new KeyNotFoundException("Topic 'q' does not exist.");
        }
    }
}
