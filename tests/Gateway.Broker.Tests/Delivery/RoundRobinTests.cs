namespace Gateway.Broker.Tests.Delivery;

/// <summary>RabbitMQ delivers to a queue's consumers in turn, skipping those without credit.</summary>
public sealed class RoundRobinTests
{
    private readonly RecordingTarget _target = new();

    [Fact]
    public void Consumers_of_a_queue_get_messages_in_turn()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: false);
        channel.Consume(queue.Queue, "b", noAck: false);
        channel.Consume(queue.Queue, "c", noAck: false);
        queue.Publish(9);
        dispatcher.RunUntilIdle();

        Assert.Equal(["a", "b", "c", "a", "b", "c", "a", "b", "c"], _target.Deliveries.Select(d => d.ConsumerTag));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), _target.Deliveries.Select(d => d.Message.Offset));
    }

    [Fact]
    public void The_turn_carries_over_from_one_burst_to_the_next()
    {
        var dispatcher = ManualDispatch.Create(burstSize: 2);
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: false);
        channel.Consume(queue.Queue, "b", noAck: false);
        channel.Consume(queue.Queue, "c", noAck: false);
        queue.Publish(7);

        Assert.Equal(4, dispatcher.RunUntilIdle());
        Assert.Equal(["a", "b", "c", "a", "b", "c", "a"], _target.Deliveries.Select(d => d.ConsumerTag));
    }

    [Fact]
    public void Consumers_without_credit_are_skipped()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.SetQos(1, global: false);
        channel.Consume(queue.Queue, "one", noAck: false);
        channel.SetQos(0, global: false);
        channel.Consume(queue.Queue, "many", noAck: false);
        queue.Publish(5);
        dispatcher.RunUntilIdle();

        Assert.Equal(["one", "many", "many", "many", "many"], _target.Deliveries.Select(d => d.ConsumerTag));
    }

    [Fact]
    public void Cancelling_a_consumer_keeps_the_turn_of_the_others()
    {
        var dispatcher = ManualDispatch.Create(burstSize: 1);
        var channel = dispatcher.OpenChannel(_target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: false);
        channel.Consume(queue.Queue, "b", noAck: false);
        channel.Consume(queue.Queue, "c", noAck: false);
        queue.Publish(6);

        dispatcher.DispatchNext();
        dispatcher.DispatchNext();
        channel.Cancel("a");
        dispatcher.RunUntilIdle();

        // a, b delivered; c's turn was next and stays next once a is gone.
        Assert.Equal(["a", "b", "c", "b", "c", "b"], _target.Deliveries.Select(d => d.ConsumerTag));
    }

    [Fact]
    public void Consumers_on_different_channels_share_a_queue_in_turn()
    {
        var dispatcher = ManualDispatch.Create();
        var otherTarget = new RecordingTarget();
        var queue = dispatcher.CreateQueue("q");
        dispatcher.OpenChannel(_target).Consume(queue.Queue, "x", noAck: false);
        dispatcher.OpenChannel(otherTarget).Consume(queue.Queue, "y", noAck: false);
        queue.Publish(4);
        dispatcher.RunUntilIdle();

        Assert.Equal([0L, 2], _target.Deliveries.Select(d => d.Message.Offset));
        Assert.Equal([1L, 3], otherTarget.Deliveries.Select(d => d.Message.Offset));

        // Delivery tags are per channel: each channel's start at 1.
        Assert.Equal([1UL, 2], _target.Deliveries.Select(d => d.DeliveryTag));
        Assert.Equal([1UL, 2], otherTarget.Deliveries.Select(d => d.DeliveryTag));
    }
}
