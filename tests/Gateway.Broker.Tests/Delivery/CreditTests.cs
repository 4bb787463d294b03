using Gateway.Broker.Delivery;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>basic.qos: per-consumer and per-channel (global) prefetch, credit taken per delivery and returned on settlement.</summary>
public sealed class CreditTests
{
    private readonly DeliveryDispatcher _dispatcher = ManualDispatch.Create();
    private readonly RecordingTarget _target = new();
    private readonly DeliveryChannel _channel;

    public CreditTests() => _channel = _dispatcher.OpenChannel(_target);

    [Fact]
    public void A_consumer_never_has_more_unacked_deliveries_than_its_prefetch()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 10);
        _channel.SetQos(3, global: false);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal([0L, 1, 2], _target.Deliveries.Select(d => d.Message.Offset));
        Assert.Equal(3, consumer.UnackedCount);
        Assert.Equal(7, queue.Source.Ready);
    }

    [Fact]
    public void An_ack_returns_one_credit_and_the_next_message_follows()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 10);
        _channel.SetQos(3, global: false);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.False(_channel.Ack(2, multiple: false).IsUnknownDeliveryTag);
        _dispatcher.RunUntilIdle();

        Assert.Equal([0L, 1, 2, 3], _target.Deliveries.Select(d => d.Message.Offset));
        Assert.Equal([1L], queue.Source.Settled);
    }

    [Fact]
    public void A_multiple_ack_returns_a_credit_for_every_delivery_it_settles()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 10);
        _channel.SetQos(4, global: false);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(3, _channel.Ack(3, multiple: true).Count);
        Assert.Equal(1, consumer.UnackedCount);
        _dispatcher.RunUntilIdle();

        Assert.Equal(7, _target.DeliveryCount);
        Assert.Equal(4, consumer.UnackedCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Nack_and_reject_return_credit_whether_or_not_they_requeue(bool requeue)
    {
        var queue = _dispatcher.CreateQueue("q", messages: 2);
        _channel.SetQos(1, global: false);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        _channel.Reject(1, requeue);
        _dispatcher.RunUntilIdle();
        _channel.Nack(2, multiple: false, requeue);
        _dispatcher.RunUntilIdle();

        // A requeued message comes back first (it keeps its place), flagged redelivered; without requeue the next one comes.
        var expected = requeue ? new[] { (0L, false), (0L, true), (0L, true) } : [(0L, false), (1L, false)];
        Assert.Equal(expected, _target.Deliveries.Select(d => (d.Message.Offset, d.Redelivered)));
        Assert.Equal(requeue ? 1 : 0, consumer.UnackedCount);
        Assert.Equal(requeue ? Array.Empty<long>() : [0L, 1], queue.Source.Settled);
    }

    [Fact]
    public void Prefetch_zero_is_unlimited()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 1000);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(1000, _target.DeliveryCount);
        Assert.Equal(1000, consumer.UnackedCount);
    }

    [Fact]
    public void A_global_limit_is_shared_by_all_consumers_of_the_channel_across_queues()
    {
        var first = _dispatcher.CreateQueue("q1", messages: 4);
        var second = _dispatcher.CreateQueue("q2", messages: 10);
        _channel.SetQos(4, global: true);
        _channel.Consume(first.Queue, "c1", noAck: false);
        _channel.Consume(second.Queue, "c2", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(4, _target.DeliveryCount);
        Assert.All(_target.Deliveries, d => Assert.Equal("c1", d.ConsumerTag));

        // The credit a c1 ack gives back to the channel goes to c2, whose queue was waiting on the channel.
        _channel.Ack(1, multiple: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(["c1", "c1", "c1", "c1", "c2"], _target.Deliveries.Select(d => d.ConsumerTag));
    }

    [Fact]
    public void With_both_limits_a_delivery_needs_credit_under_each()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 10);
        _channel.SetQos(2, global: false);
        _channel.SetQos(3, global: true);
        var a = _channel.Consume(queue.Queue, "a", noAck: false);
        var b = _channel.Consume(queue.Queue, "b", noAck: false);
        _dispatcher.RunUntilIdle();

        // Round-robin a, b, a; then b would have its own credit, but the channel's is used up.
        Assert.Equal(["a", "b", "a"], _target.Deliveries.Select(d => d.ConsumerTag));
        Assert.Equal((2, 1), (a.UnackedCount, b.UnackedCount));

        // Acking one of a's returns a credit to a and to the channel; it is b's turn, so b gets the next message.
        _channel.Ack(1, multiple: false);
        _dispatcher.RunUntilIdle();
        Assert.Equal(["a", "b", "a", "b"], _target.Deliveries.Select(d => d.ConsumerTag));
    }

    [Fact]
    public void A_per_consumer_qos_change_applies_only_to_consumers_created_after_it()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 100);
        _channel.SetQos(1, global: false);
        var before = _channel.Consume(queue.Queue, "before", noAck: false);
        _channel.SetQos(5, global: false);
        var after = _channel.Consume(queue.Queue, "after", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal((1, 5), (before.Prefetch, after.Prefetch));
        Assert.Equal((1, 5), (before.UnackedCount, after.UnackedCount));
    }

    [Fact]
    public void A_global_qos_change_applies_at_once_to_existing_consumers()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 100);
        _channel.SetQos(2, global: true);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();
        Assert.Equal(2, _target.DeliveryCount);

        // Raising it wakes the queue with no ack needed.
        _channel.SetQos(5, global: true);
        _dispatcher.RunUntilIdle();
        Assert.Equal(5, _target.DeliveryCount);

        // Lowering it below the unacked count stops deliveries until acks bring the count below it.
        _channel.SetQos(3, global: true);
        _channel.Ack(2, multiple: true);
        _dispatcher.RunUntilIdle();
        Assert.Equal(5, _target.DeliveryCount);
        _channel.Ack(3, multiple: false);
        _dispatcher.RunUntilIdle();
        Assert.Equal(6, _target.DeliveryCount);

        // Removing it (0) makes the channel unlimited.
        _channel.SetQos(0, global: true);
        _dispatcher.RunUntilIdle();
        Assert.Equal(100, _target.DeliveryCount);
    }

    [Fact]
    public void A_global_limit_counts_what_was_already_unacked_when_it_was_set()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 3);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();
        queue.Publish(3);
        _channel.SetQos(4, global: true);
        _dispatcher.RunUntilIdle();

        Assert.Equal(4, _target.DeliveryCount);
    }

    [Fact]
    public void No_ack_consumers_need_no_credit_and_their_messages_are_settled_on_delivery()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 50);
        _channel.SetQos(1, global: false);
        _channel.SetQos(1, global: true);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: true);
        _dispatcher.RunUntilIdle();

        Assert.Equal(50, _target.DeliveryCount);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), queue.Source.Settled);
        Assert.Equal((0, 0, 0), (consumer.Prefetch, consumer.UnackedCount, _channel.UnackedCount));
    }

    [Fact]
    public void A_no_ack_consumer_does_not_use_the_channel_credit_of_its_acking_neighbours()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 4);
        var other = _dispatcher.CreateQueue("other", messages: 4);
        _channel.SetQos(2, global: true);
        _channel.Consume(queue.Queue, "no-ack", noAck: true);
        _channel.Consume(other.Queue, "acking", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(4, _target.DeliveriesTo("no-ack").Count);
        Assert.Equal(2, _target.DeliveriesTo("acking").Count);
    }

    [Fact]
    public void Acking_a_cancelled_consumers_delivery_returns_its_credit_to_the_channel()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 10);
        _channel.SetQos(2, global: true);
        _channel.Consume(queue.Queue, "gone", noAck: false);
        _dispatcher.RunUntilIdle();
        _channel.Cancel("gone");
        var stays = _channel.Consume(queue.Queue, "stays", noAck: false);
        _dispatcher.RunUntilIdle();
        Assert.Empty(_target.DeliveriesTo("stays"));

        _channel.Ack(2, multiple: true);
        _dispatcher.RunUntilIdle();

        Assert.Equal(2, _target.DeliveriesTo("stays").Count);
        Assert.Equal(2, stays.UnackedCount);
    }
}
