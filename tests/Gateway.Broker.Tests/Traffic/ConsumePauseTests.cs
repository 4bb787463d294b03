using System.Net;
using Gateway.Broker.Tests.Delivery;
using Gateway.Broker.Traffic;

namespace Gateway.Broker.Tests.Traffic;

/// <summary>The controller's pauses at the dispatch point (docs/traffic-control.md), on one thread, deterministically.</summary>
public sealed class ConsumePauseTests
{
    private static readonly ClientIdentity Billing = new(1, IPAddress.Parse("10.1.2.3"), "billing");
    private static readonly ClientIdentity Reports = new(2, IPAddress.Parse("10.9.0.1"), "reports");

    private static ConsumeControl Pause(params PauseScope[] scopes) => new(scopes, limitPerSecond: null);

    [Fact]
    public void A_paused_queue_delivers_nothing_and_resume_delivers_the_rest_exactly_once()
    {
        var dispatcher = ManualDispatch.Create(burstSize: 4);
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target, Billing);
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: false);
        queue.Publish(10);
        dispatcher.DispatchNext();
        Assert.Equal(4, target.DeliveryCount);

        queue.Queue.ApplyControl(Pause(PauseScope.Everyone), version: 1);
        queue.Publish(10);
        dispatcher.RunUntilIdle();   // the dispatch already scheduled runs and delivers nothing
        Assert.Equal(0, dispatcher.Statistics.Scheduled);
        Assert.Equal(4, target.DeliveryCount);
        Assert.Equal(16, queue.Source.Ready);               // nothing taken from the queue for a paused consumer
        Assert.Equal(4, channel.UnackedCount);              // its unacknowledged deliveries stay
        Assert.True(queue.Queue.IsPausedForEveryone);
        Assert.False(channel.Get(queue.Queue, noAck: false)); // basic.get: get-empty

        Assert.Equal(4, channel.Ack(4, multiple: true).Count);   // acks still work while paused
        Assert.Equal(0, dispatcher.RunUntilIdle());

        queue.Queue.ApplyControl(ConsumeControl.None, version: 2);
        dispatcher.RunUntilIdle();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), target.Deliveries.Select(d => d.Message.Offset));
        Assert.All(target.Deliveries, d => Assert.False(d.Redelivered));
        Assert.Equal(20, queue.Queue.DeliveredCount);
        Assert.Equal(4, queue.Queue.AcknowledgedCount);
        Assert.Equal(20, queue.Queue.AppendedCount);
    }

    [Fact]
    public void A_pause_scoped_to_a_connection_name_skips_only_its_consumers()
    {
        var dispatcher = ManualDispatch.Create();
        var billingTarget = new RecordingTarget();
        var reportsTarget = new RecordingTarget();
        var billing = dispatcher.OpenChannel(billingTarget, Billing);
        var reports = dispatcher.OpenChannel(reportsTarget, Reports);
        var queue = dispatcher.CreateQueue("q");
        billing.Consume(queue.Queue, "b", noAck: false);
        reports.Consume(queue.Queue, "r", noAck: false);

        queue.Queue.ApplyControl(Pause(PauseScope.Parse(null, "billing")), version: 1);
        queue.Publish(6);
        dispatcher.RunUntilIdle();

        Assert.Empty(billingTarget.Deliveries);
        Assert.Equal(6, reportsTarget.DeliveryCount);
        Assert.False(queue.Queue.IsPausedForEveryone);
        Assert.Equal(1, queue.Queue.PausedConsumerCount);
        Assert.False(billing.Get(queue.Queue, noAck: true));   // nothing ready anyway, but see below for a ready one
        queue.Publish(1);
        reports.Cancel("r");
        Assert.False(billing.Get(queue.Queue, noAck: true));   // a matching connection's basic.get is held too
        Assert.True(reports.Get(queue.Queue, noAck: true));    // another connection's is not
    }

    [Fact]
    public void A_pause_scoped_to_an_address_block_matches_by_client_address()
    {
        var dispatcher = ManualDispatch.Create();
        var billingTarget = new RecordingTarget();
        var reportsTarget = new RecordingTarget();
        var billing = dispatcher.OpenChannel(billingTarget, Billing);
        var reports = dispatcher.OpenChannel(reportsTarget, Reports);
        var queue = dispatcher.CreateQueue("q");
        billing.Consume(queue.Queue, "b", noAck: true);
        reports.Consume(queue.Queue, "r", noAck: true);

        queue.Queue.ApplyControl(Pause(PauseScope.Parse("10.9.0.0/16", null)), version: 1);
        queue.Publish(4);
        dispatcher.RunUntilIdle();

        Assert.Equal(4, billingTarget.DeliveryCount);
        Assert.Empty(reportsTarget.Deliveries);
    }

    [Fact]
    public void A_consumer_created_on_a_paused_queue_starts_paused()
    {
        var dispatcher = ManualDispatch.Create();
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target, Billing);
        var queue = dispatcher.CreateQueue("q", messages: 3);
        queue.Queue.ApplyControl(Pause(PauseScope.Parse("10.1.2.3", null)), version: 1);

        var consumer = channel.Consume(queue.Queue, "late", noAck: false);
        Assert.Equal(0, dispatcher.RunUntilIdle());
        Assert.True(consumer.IsPausedByControl);

        queue.Queue.ApplyControl(ConsumeControl.None, version: 2);
        dispatcher.RunUntilIdle();
        Assert.Equal(3, target.DeliveryCount);
        Assert.Equal(3, consumer.DeliveredCount);
    }

    [Fact]
    public void Pausing_the_single_active_consumer_stalls_the_queue_rather_than_handing_over()
    {
        var dispatcher = ManualDispatch.Create();
        var billingTarget = new RecordingTarget();
        var reportsTarget = new RecordingTarget();
        var queue = dispatcher.CreateQueue("q");
        queue.Queue.SingleActiveConsumer = true;
        dispatcher.OpenChannel(billingTarget, Billing).Consume(queue.Queue, "active", noAck: true);
        dispatcher.OpenChannel(reportsTarget, Reports).Consume(queue.Queue, "standby", noAck: true);

        queue.Queue.ApplyControl(Pause(PauseScope.Parse(null, "billing")), version: 1);
        queue.Publish(3);
        dispatcher.RunUntilIdle();
        Assert.Empty(billingTarget.Deliveries);
        Assert.Empty(reportsTarget.Deliveries);

        queue.Queue.ApplyControl(ConsumeControl.None, version: 2);
        dispatcher.RunUntilIdle();
        Assert.Equal(3, billingTarget.DeliveryCount);
    }

    [Fact]
    public void An_older_state_does_not_undo_a_newer_one()
    {
        var dispatcher = ManualDispatch.Create();
        var queue = dispatcher.CreateQueue("q");
        queue.Queue.ApplyControl(Pause(PauseScope.Everyone), version: 5);
        queue.Queue.ApplyControl(ConsumeControl.None, version: 4);
        Assert.True(queue.Queue.IsPausedForEveryone);
    }

    [Fact]
    public void A_paused_queue_with_messages_and_consumers_is_never_scheduled()
    {
        var dispatcher = ManualDispatch.Create();
        var channel = dispatcher.OpenChannel(new RecordingTarget());
        var queue = dispatcher.CreateQueue("q");
        channel.Consume(queue.Queue, "a", noAck: false);
        queue.Queue.ApplyControl(Pause(PauseScope.Everyone), version: 1);
        for (int i = 0; i < 100; i++)
        {
            queue.Publish();
        }

        Assert.Equal(0, dispatcher.Statistics.Scheduled);
        Assert.Equal(0, dispatcher.RunUntilIdle());
    }
}
