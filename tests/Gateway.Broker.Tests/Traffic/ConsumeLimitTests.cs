using Gateway.Broker.Tests.Delivery;
using Gateway.Broker.Traffic;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Broker.Tests.Traffic;

/// <summary>The consume rate limit at the dispatch point, on a fake clock: a burst takes min(burst, tokens), a timer wakes the queue.</summary>
public sealed class ConsumeLimitTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    private static ConsumeControl Limit(double perSecond) => new([], perSecond);

    [Fact]
    public void A_limited_queue_delivers_its_small_burst_then_waits_for_the_timer()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 1000);
        queue.Queue.ApplyControl(Limit(100), version: 1);
        channel.Consume(queue.Queue, "a", noAck: true);

        dispatcher.RunUntilIdle();
        Assert.Equal(10, target.DeliveryCount);   // capacity: a tenth of a second's tokens
        Assert.Equal(0, dispatcher.Statistics.Scheduled);

        _time.Advance(TimeSpan.FromMilliseconds(50));   // the timer fires and schedules the queue
        Assert.Equal(1, dispatcher.Statistics.Scheduled);
        dispatcher.RunUntilIdle();
        Assert.Equal(15, target.DeliveryCount);
    }

    [Fact]
    public void Over_ten_seconds_a_limit_of_100_per_second_delivers_1000_within_ten_percent()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 5000);
        channel.Consume(queue.Queue, "a", noAck: true);
        queue.Queue.ApplyControl(Limit(100), version: 1);

        for (int step = 0; step < 1000; step++)
        {
            dispatcher.RunUntilIdle();
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        dispatcher.RunUntilIdle();
        Assert.InRange(target.DeliveryCount, 900, 1100);
    }

    [Fact]
    public void After_a_long_idle_a_limit_lets_only_its_small_capacity_through_at_once()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: true);
        queue.Queue.ApplyControl(Limit(50), version: 1);

        _time.Advance(TimeSpan.FromMinutes(10));
        queue.Publish(500);
        dispatcher.RunUntilIdle();
        Assert.Equal(5, target.DeliveryCount);
    }

    [Fact]
    public void Removing_the_limit_lets_the_backlog_flow_at_once()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 300);
        queue.Queue.ApplyControl(Limit(10), version: 1);
        channel.Consume(queue.Queue, "a", noAck: true);
        dispatcher.RunUntilIdle();
        Assert.Equal(1, target.DeliveryCount);

        queue.Queue.ApplyControl(ConsumeControl.None, version: 2);
        dispatcher.RunUntilIdle();
        Assert.Equal(300, target.DeliveryCount);
        Assert.Null(queue.Queue.ConsumeLimitPerSecond);
    }

    [Fact]
    public void Raising_the_limit_wakes_the_queue()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 300);
        queue.Queue.ApplyControl(Limit(0), version: 1);   // a share of 0: nothing at all, and no timer
        channel.Consume(queue.Queue, "a", noAck: true);
        dispatcher.RunUntilIdle();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, dispatcher.RunUntilIdle());
        Assert.Empty(target.Deliveries);

        queue.Queue.ApplyControl(Limit(1000), version: 2);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        dispatcher.RunUntilIdle();
        Assert.InRange(target.DeliveryCount, 90, 110);
    }

    [Fact]
    public void Raising_a_limit_whose_wake_up_timer_is_armed_far_ahead_delivers_at_the_new_rate_at_once()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 300);
        queue.Queue.ApplyControl(Limit(0.01), version: 1);   // one token, then the timer is armed 100 s ahead
        channel.Consume(queue.Queue, "a", noAck: true);
        dispatcher.RunUntilIdle();
        Assert.Equal(1, target.DeliveryCount);

        queue.Queue.ApplyControl(Limit(1000), version: 2);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        dispatcher.RunUntilIdle();
        Assert.InRange(target.DeliveryCount, 90, 111);
    }

    [Fact]
    public void Basic_get_spends_a_token_and_finds_the_queue_empty_without_one()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", messages: 10);
        queue.Queue.ApplyControl(Limit(5), version: 1);   // capacity 1

        Assert.True(channel.Get(queue.Queue, noAck: true));
        Assert.False(channel.Get(queue.Queue, noAck: true));
        Assert.Equal(9, queue.Source.Ready);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(channel.Get(queue.Queue, noAck: true));
    }

    [Fact]
    public void A_limited_queue_without_consumers_arms_no_timer()
    {
        var dispatcher = ManualDispatch.Create(time: _time);
        var queue = dispatcher.CreateQueue("q", messages: 10);
        queue.Queue.ApplyControl(Limit(1), version: 1);
        queue.Publish(10);
        Assert.Equal(0, dispatcher.RunUntilIdle());
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, dispatcher.Statistics.Scheduled);
    }
}
