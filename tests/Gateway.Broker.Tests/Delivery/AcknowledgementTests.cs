using Gateway.Broker.Delivery;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>Delivery tags and what basic.ack, basic.nack, basic.reject, basic.recover and a channel close do with them.</summary>
public sealed class AcknowledgementTests
{
    private readonly DeliveryDispatcher _dispatcher = ManualDispatch.Create();
    private readonly RecordingTarget _target = new();
    private readonly DeliveryChannel _channel;

    public AcknowledgementTests() => _channel = _dispatcher.OpenChannel(_target);

    [Fact]
    public void Delivery_tags_count_from_one_per_channel_across_queues_consumers_and_basic_get()
    {
        var first = _dispatcher.CreateQueue("q1", messages: 2);
        var second = _dispatcher.CreateQueue("q2", messages: 2);
        _channel.Consume(first.Queue, "c1", noAck: false);
        _dispatcher.RunUntilIdle();
        Assert.True(_channel.Get(second.Queue, noAck: false));
        _channel.Consume(second.Queue, "c2", noAck: true);
        _dispatcher.RunUntilIdle();

        Assert.Equal([(1UL, "c1"), (2UL, "c1"), (4UL, "c2")], _target.Deliveries.Select(d => (d.DeliveryTag, d.ConsumerTag)));
        Assert.Equal(3UL, Assert.Single(_target.Gets).DeliveryTag);
    }

    [Fact]
    public void Acking_an_unknown_tag_reports_it_with_rabbitmqs_text_and_settles_nothing()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 2);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        var result = _channel.Ack(7, multiple: false);

        Assert.Equal(new AcknowledgeResult(0, 7), result);
        Assert.Equal("unknown delivery tag 7", result.ErrorText);
        Assert.Equal(2, _channel.UnackedCount);
        Assert.Empty(queue.Source.Settled);
    }

    [Fact]
    public void A_second_ack_of_the_same_tag_is_unknown()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 2);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(1, _channel.Ack(1, multiple: false).Count);
        Assert.Equal(1UL, _channel.Ack(1, multiple: false).UnknownDeliveryTag);
        Assert.Equal(1UL, _channel.Reject(1, requeue: true).UnknownDeliveryTag);
        Assert.Equal(1UL, _channel.Nack(1, multiple: true, requeue: true).UnknownDeliveryTag);
        Assert.Equal(0, queue.Source.InvalidSettles);
    }

    [Fact]
    public void A_multiple_ack_whose_own_tag_is_unknown_fails_whole_like_rabbitmqs_collect_acks()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 3);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();
        _channel.Ack(2, multiple: false);

        Assert.Equal(2UL, _channel.Ack(2, multiple: true).UnknownDeliveryTag);
        Assert.Equal(2, _channel.UnackedCount);
    }

    [Fact]
    public void A_multiple_ack_settles_every_delivery_up_to_its_tag_and_leaves_later_ones()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 5);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();
        _channel.Ack(2, multiple: false);

        Assert.Equal(3, _channel.Ack(4, multiple: true).Count);
        Assert.Equal([1L, 0, 2, 3], queue.Source.Settled);
        Assert.Equal(1, _channel.UnackedCount);
    }

    [Fact]
    public void Ack_zero_with_multiple_settles_everything_and_without_multiple_is_unknown()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 3);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(0UL, _channel.Ack(0, multiple: false).UnknownDeliveryTag);
        Assert.Equal(3, _channel.Ack(0, multiple: true).Count);
        Assert.Equal(0, _channel.Ack(0, multiple: true).Count);
        Assert.Equal(3, queue.Source.Settled.Count);
    }

    [Fact]
    public void Tags_of_no_ack_deliveries_are_unknown_to_ack()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 1);
        _channel.Consume(queue.Queue, "c", noAck: true);
        _dispatcher.RunUntilIdle();

        Assert.Equal(1UL, _channel.Ack(1, multiple: false).UnknownDeliveryTag);
        Assert.Equal(0, queue.Source.InvalidSettles);
    }

    [Fact]
    public void Nack_multiple_with_requeue_puts_messages_back_oldest_first_and_they_come_back_redelivered()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 4);
        _channel.SetQos(3, global: false);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(3, _channel.Nack(3, multiple: true, requeue: true).Count);
        _dispatcher.RunUntilIdle();

        Assert.Equal([0L, 1, 2], queue.Source.RequeueOrder);
        Assert.Equal(
            [(0L, false), (1L, false), (2L, false), (0L, true), (1L, true), (2L, true)],
            _target.Deliveries.Select(d => (d.Message.Offset, d.Redelivered)));
    }

    [Fact]
    public void Nack_without_requeue_settles()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 2);
        _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(2, _channel.Nack(2, multiple: true, requeue: false).Count);
        Assert.Equal([0L, 1], queue.Source.Settled);
        Assert.Empty(queue.Source.RequeueOrder);
    }

    [Fact]
    public void Recover_requeues_every_unacked_delivery_returns_the_credit_and_redelivers()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 3);
        _channel.SetQos(2, global: false);
        var consumer = _channel.Consume(queue.Queue, "c", noAck: false);
        _dispatcher.RunUntilIdle();

        Assert.Equal(2, _channel.Recover());
        Assert.Equal(0, consumer.UnackedCount);
        _dispatcher.RunUntilIdle();

        Assert.Equal([0L, 1], queue.Source.RequeueOrder);
        Assert.Equal(
            [(3UL, 0L, true), (4UL, 1L, true)],
            _target.Deliveries.Skip(2).Select(d => (d.DeliveryTag, d.Message.Offset, d.Redelivered)));
    }

    [Fact]
    public void Closing_the_channel_requeues_every_unacked_delivery_in_delivery_tag_order()
    {
        var first = _dispatcher.CreateQueue("q1", messages: 3);
        var second = _dispatcher.CreateQueue("q2", messages: 3);
        var requeued = new List<(string Queue, long Offset)>();
        first.Source.OnRequeue = offset => requeued.Add(("q1", offset));
        second.Source.OnRequeue = offset => requeued.Add(("q2", offset));
        _channel.Consume(second.Queue, "c2", noAck: false);
        _dispatcher.RunUntilIdle();
        _channel.Consume(first.Queue, "c1", noAck: false);
        _dispatcher.RunUntilIdle();
        second.Publish();
        _dispatcher.RunUntilIdle();
        _channel.Ack(2, multiple: false);

        _channel.Close();

        // Tags 1..3 are q2's offsets 0..2 (tag 2 acked), 4..6 q1's offsets 0..2, and 7 q2's offset 3.
        Assert.Equal([("q2", 0L), ("q2", 2), ("q1", 0), ("q1", 1), ("q1", 2), ("q2", 3)], requeued);
        Assert.Equal(0, _channel.UnackedCount);
        Assert.Equal((0, 0), (first.Queue.ConsumerCount, second.Queue.ConsumerCount));
        Assert.Equal(1UL, _channel.Ack(1, multiple: false).UnknownDeliveryTag);
    }

    [Fact]
    public void Basic_get_delivers_one_message_with_the_remaining_count_and_awaits_its_ack()
    {
        var queue = _dispatcher.CreateQueue("q", messages: 3);

        Assert.True(_channel.Get(queue.Queue, noAck: false));
        Assert.True(_channel.Get(queue.Queue, noAck: true));

        Assert.Equal([(1UL, 0L, 2L), (2UL, 1L, 1L)], _target.Gets.Select(g => (g.DeliveryTag, g.Message.Offset, g.MessageCount)));
        Assert.Equal([1L], queue.Source.Settled);
        Assert.Equal(1, _channel.UnackedCount);
        Assert.Equal(1, _channel.Ack(1, multiple: false).Count);
        Assert.Equal(2UL, _channel.Ack(2, multiple: false).UnknownDeliveryTag);
    }

    [Fact]
    public void Basic_get_on_an_empty_queue_returns_false_and_uses_no_tag()
    {
        var queue = _dispatcher.CreateQueue("q");

        Assert.False(_channel.Get(queue.Queue, noAck: false));
        queue.Source.Append();
        Assert.True(_channel.Get(queue.Queue, noAck: false));

        Assert.Equal(1UL, Assert.Single(_target.Gets).DeliveryTag);
    }
}
