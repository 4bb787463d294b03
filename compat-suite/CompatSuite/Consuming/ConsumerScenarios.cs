using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static CompatSuite.Fixtures.Scenario;

namespace CompatSuite.Consuming;

/// <summary>
/// Consumer life cycle and settlement beyond the basics in <see cref="ConsumeScenarios"/>: cancel, tag reuse,
/// nack multiple, connection-close requeue, channel-wide (global) qos, basic.recover and exclusive consumers.
/// </summary>
public sealed class ConsumerScenarios
{
    private static async Task<(IConnection Connection, IChannel Channel, string Queue)> QueueWithMessagesAsync(int count)
    {
        var connection = await Broker.ConnectAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Unique("consumer");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        for (int i = 0; i < count; i++)
        {
            await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties(), Encoding.UTF8.GetBytes($"body {i}"));
        }

        return (connection, channel, queue);
    }

    [Fact]
    public async Task A_cancelled_consumer_gets_nothing_more_and_messages_stay_in_the_queue()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(2);
        await using var _ = connection;
        await using var consuming = await connection.CreateChannelAsync();
        var (consumer, deliveries) = RecordingConsumer(consuming);
        string tag = await consuming.BasicConsumeAsync(queue, autoAck: true, consumer);
        await WaitUntilAsync(() => deliveries.Count == 2, "the first two deliveries");
        await consuming.BasicCancelAsync(tag);
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount);

        await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties(), "after cancel"u8.ToArray());
        await Task.Delay(300);
        Assert.Equal(2, deliveries.Count);
        Assert.Equal(1u, await MessageCountAsync(channel, queue));
        Assert.All(deliveries.Snapshot(), d => Assert.Equal(tag, d.ConsumerTag));
        await channel.QueueDeleteAsync(queue);
    }

    /// <summary>RabbitMQ: a tag already in use on the channel is a connection error 530 (not a channel error).</summary>
    [Fact]
    public async Task Reusing_a_consumer_tag_on_the_same_channel_is_530()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(0);
        await using var _ = connection;
        await channel.BasicConsumeAsync(queue, autoAck: true, "dup-tag", new AsyncEventingBasicConsumer(channel));
        await Assert.ThrowsAnyAsync<Exception>(() => channel.BasicConsumeAsync(queue, autoAck: true, "dup-tag", new AsyncEventingBasicConsumer(channel)));
        await WaitUntilAsync(() => !connection.IsOpen, "the connection to close");
        ShutdownEventArgs reason = connection.CloseReason!;
        Assert.Equal(530, reason.ReplyCode);
        Assert.Equal("NOT_ALLOWED - attempt to reuse consumer tag 'dup-tag'", reason.ReplyText);
        Assert.Equal(60, reason.ClassId);
        Assert.Equal(20, reason.MethodId);

        await using var cleanupConnection = await Broker.ConnectAsync();
        await using var cleanup = await cleanupConnection.CreateChannelAsync();
        await cleanup.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Nack_multiple_with_requeue_returns_every_message_up_to_the_tag()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(4);
        await using var _ = connection;
        var tags = new List<ulong>();
        for (int i = 0; i < 3; i++)
        {
            tags.Add((await channel.BasicGetAsync(queue, autoAck: false))!.DeliveryTag);
        }

        await channel.BasicNackAsync(tags[1], multiple: true, requeue: true);   // the first two
        await WaitForMessageCountAsync(channel, queue, 3);
        await channel.BasicAckAsync(tags[2], multiple: false);   // the third is still ours to settle

        BasicGetResult first = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(first.Redelivered);
        Assert.Equal("body 0", Encoding.UTF8.GetString(first.Body.Span));
        BasicGetResult second = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(second.Redelivered);
        Assert.Equal("body 1", Encoding.UTF8.GetString(second.Body.Span));
        BasicGetResult fourth = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.False(fourth.Redelivered);
        Assert.Equal("body 3", Encoding.UTF8.GetString(fourth.Body.Span));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Ack_multiple_settles_every_delivery_up_to_the_tag()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(3);
        await using var _ = connection;
        ulong last = 0;
        for (int i = 0; i < 3; i++)
        {
            last = (await channel.BasicGetAsync(queue, autoAck: false))!.DeliveryTag;
        }

        await channel.BasicAckAsync(last, multiple: true);
        await channel.CloseAsync();   // nothing unacked is left to requeue
        await using var check = await connection.CreateChannelAsync();
        await Task.Delay(200);   // a requeue on close is asynchronous on RabbitMQ: give a wrong one time to show
        Assert.Equal(0u, await MessageCountAsync(check, queue));
        await check.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Closing_the_connection_requeues_its_unacked_deliveries()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(3);
        await using var _ = connection;
        await using (var consumerConnection = await Broker.ConnectAsync("compat-requeue-on-close"))
        {
            await using var consuming = await consumerConnection.CreateChannelAsync();
            var (consumer, deliveries) = RecordingConsumer(consuming);
            await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
            await WaitUntilAsync(() => deliveries.Count == 3, "three deliveries");
            await consuming.BasicAckAsync(deliveries.Snapshot()[0].DeliveryTag, multiple: false);
            await consumerConnection.CloseAsync();
        }

        await WaitForMessageCountAsync(channel, queue, 2);
        BasicGetResult back = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(back.Redelivered);
        Assert.Equal("body 1", Encoding.UTF8.GetString(back.Body.Span));
        await channel.QueueDeleteAsync(queue);
    }

    /// <summary>RabbitMQ reads basic.qos global=true as one limit shared by all consumers of the channel.</summary>
    [Fact]
    public async Task Global_qos_is_one_limit_shared_by_the_channels_consumers()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(10);
        await using var _ = connection;
        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 3, global: true);
        var (first, firstDeliveries) = RecordingConsumer(consuming);
        var (second, secondDeliveries) = RecordingConsumer(consuming);
        await consuming.BasicConsumeAsync(queue, autoAck: false, first);
        await consuming.BasicConsumeAsync(queue, autoAck: false, second);
        await WaitUntilAsync(() => firstDeliveries.Count + secondDeliveries.Count == 3, "three deliveries");
        await Task.Delay(300);   // and no more: the channel's limit is 3 in all
        Assert.Equal(3, firstDeliveries.Count + secondDeliveries.Count);
        Assert.Equal(7u, await MessageCountAsync(channel, queue));

        Delivery[] all = [.. firstDeliveries.Snapshot(), .. secondDeliveries.Snapshot()];
        await consuming.BasicAckAsync(all.Max(d => d.DeliveryTag), multiple: true);
        await WaitUntilAsync(() => firstDeliveries.Count + secondDeliveries.Count == 6, "three more after the ack");
        await consuming.CloseAsync();
        await channel.QueueDeleteAsync(queue);
    }

    /// <summary>
    /// basic.recover(requeue=true) puts every unacked delivery of the channel back, flagged redelivered.
    /// RabbitMQ.Client 7 no longer exposes basic.recover (6.x and amqplib do), so the consuming side is a raw socket.
    /// </summary>
    [Fact]
    public async Task Basic_recover_requeues_the_channels_unacked_deliveries()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(2);
        await using var _ = connection;
        var (raw, _) = await RawAmqpClient.OpenAsync();
        await using var __ = raw;
        await raw.OpenChannelAsync(1);
        await raw.ExpectMethodAsync(20, 11);
        for (int i = 0; i < 2; i++)
        {
            await raw.SendMethodAsync(1, 60, 70, new MethodArgs().Short(0).ShortStr(queue).Octet(0));   // basic.get, no-ack false
            await raw.ExpectMethodAsync(60, 71);
            Assert.Equal(RawAmqpClient.FrameHeader, (await raw.ReadNonHeartbeatAsync()).Type);
            Assert.Equal(RawAmqpClient.FrameBody, (await raw.ReadNonHeartbeatAsync()).Type);
        }

        Assert.Equal(0u, await MessageCountAsync(channel, queue));
        await raw.SendMethodAsync(1, 60, 110, new MethodArgs().Octet(1));   // basic.recover, requeue true
        await raw.ExpectMethodAsync(60, 111);
        await WaitForMessageCountAsync(channel, queue, 2);
        BasicGetResult again = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(again.Redelivered);
        Assert.Equal("body 0", Encoding.UTF8.GetString(again.Body.Span));

        // requeue=false (redeliver to the same consumer) is not implemented by RabbitMQ: a connection error 540.
        await raw.SendMethodAsync(1, 60, 110, new MethodArgs().Octet(0));
        CloseReason refused = await raw.ExpectConnectionCloseAsync();
        Assert.Equal(540, refused.ReplyCode);
        Assert.Equal("NOT_IMPLEMENTED - requeue=false", refused.ReplyText);
        Assert.Equal(60, refused.ClassId);
        Assert.Equal(110, refused.MethodId);
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task An_exclusive_consumer_locks_out_other_consumers_with_403()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(0);
        await using var _ = connection;
        await using var owner = await connection.CreateChannelAsync();
        string exclusiveTag = await owner.BasicConsumeAsync(queue, autoAck: true, consumerTag: "", noLocal: false, exclusive: true,
            arguments: null, new AsyncEventingBasicConsumer(owner));

        await using (var other = await connection.CreateChannelAsync())
        {
            var reason = await ExpectChannelClosedAsync(other, () => other.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(other)));
            Assert.Equal(403, reason.ReplyCode);
            Assert.Equal($"ACCESS_REFUSED - queue '{queue}' in vhost '/' in exclusive use", reason.ReplyText);
            Assert.Equal(60, reason.ClassId);
            Assert.Equal(20, reason.MethodId);
        }

        // Once the exclusive consumer is gone, a plain one is fine; and an exclusive one is refused while it exists.
        await owner.BasicCancelAsync(exclusiveTag);
        await owner.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(owner));
        await using (var other = await connection.CreateChannelAsync())
        {
            var reason = await ExpectChannelClosedAsync(other, () => other.BasicConsumeAsync(queue, autoAck: true, consumerTag: "", noLocal: false,
                exclusive: true, arguments: null, new AsyncEventingBasicConsumer(other)));
            Assert.Equal(403, reason.ReplyCode);
            Assert.Equal($"ACCESS_REFUSED - queue '{queue}' in vhost '/' in exclusive use", reason.ReplyText);
        }

        await channel.QueueDeleteAsync(queue);
    }
}
