using System.Collections.Concurrent;
using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CompatSuite.Consuming;

/// <summary>basic.get, basic.consume, qos, acknowledgements and requeue as RabbitMQ.Client 7.x sees them.</summary>
public sealed class ConsumeScenarios
{
    private static async Task<(IConnection Connection, IChannel Channel, string Queue)> QueueWithMessagesAsync(int count)
    {
        var connection = await Broker.ConnectAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = $"compat-consume-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        for (int i = 0; i < count; i++)
        {
            await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { MessageId = $"m{i}" }, Encoding.UTF8.GetBytes($"body {i}"));
        }

        return (connection, channel, queue);
    }

    [Fact]
    public async Task Get_returns_messages_in_order_with_the_remaining_count_and_get_empty_at_the_end()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(3);
        await using var _ = connection;
        for (int i = 0; i < 3; i++)
        {
            BasicGetResult? result = await channel.BasicGetAsync(queue, autoAck: false);
            Assert.NotNull(result);
            Assert.Equal($"body {i}", Encoding.UTF8.GetString(result.Body.Span));
            Assert.Equal($"m{i}", result.BasicProperties.MessageId);
            Assert.Equal((uint)(2 - i), result.MessageCount);
            Assert.False(result.Redelivered);
            Assert.Equal("", result.Exchange);
            Assert.Equal(queue, result.RoutingKey);
            await channel.BasicAckAsync(result.DeliveryTag, multiple: false);
        }

        Assert.Null(await channel.BasicGetAsync(queue, autoAck: false));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_nacked_message_comes_back_first_flagged_redelivered()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(2);
        await using var _ = connection;
        BasicGetResult first = (await channel.BasicGetAsync(queue, autoAck: false))!;
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);
        BasicGetResult again = (await channel.BasicGetAsync(queue, autoAck: false))!;
        Assert.Equal("body 0", Encoding.UTF8.GetString(again.Body.Span));
        Assert.True(again.Redelivered);
        await channel.BasicRejectAsync(again.DeliveryTag, requeue: false);   // dropped
        BasicGetResult second = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.Equal("body 1", Encoding.UTF8.GetString(second.Body.Span));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Closing_a_channel_requeues_its_unacked_messages()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(2);
        await using var _ = connection;
        await using (var consumerChannel = await connection.CreateChannelAsync())
        {
            Assert.NotNull(await consumerChannel.BasicGetAsync(queue, autoAck: false));
            Assert.NotNull(await consumerChannel.BasicGetAsync(queue, autoAck: false));
            Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
            await consumerChannel.CloseAsync();
        }

        Assert.Equal(2u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
        BasicGetResult back = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(back.Redelivered);
        Assert.Equal("body 0", Encoding.UTF8.GetString(back.Body.Span));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Acking_an_unknown_delivery_tag_is_406()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(0);
        await using var _ = connection;
        await using (var other = await connection.CreateChannelAsync())
        {
            var closed = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            other.ChannelShutdownAsync += (_, args) =>
            {
                closed.TrySetResult(args);
                return Task.CompletedTask;
            };
            await other.BasicAckAsync(99, multiple: false);
            ShutdownEventArgs reason = await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - unknown delivery tag 99", reason.ReplyText);
            Assert.Equal(60, reason.ClassId);
            Assert.Equal(80, reason.MethodId);
        }

        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Consumers_share_a_queue_round_robin_within_their_prefetch()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(10);
        await using var _ = connection;
        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 2, global: false);
        var received = new ConcurrentDictionary<string, List<string>>();
        var unacked = new ConcurrentBag<ulong>();
        var gotFour = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task StartAsync(string name)
        {
            var consumer = new AsyncEventingBasicConsumer(consuming);
            consumer.ReceivedAsync += (_, args) =>
            {
                received.GetOrAdd(name, _ => []).Add(Encoding.UTF8.GetString(args.Body.Span));
                unacked.Add(args.DeliveryTag);
                if (unacked.Count == 4)
                {
                    gotFour.TrySetResult();
                }

                return Task.CompletedTask;
            };
            Assert.Equal(name, await consuming.BasicConsumeAsync(queue, autoAck: false, consumerTag: name, consumer));
        }

        await StartAsync("c1");
        await StartAsync("c2");
        await gotFour.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(200);   // nothing more may arrive: both consumers are at their prefetch of 2
        Assert.Equal(4, unacked.Count);
        Assert.Equal(2, received["c1"].Count);
        Assert.Equal(2, received["c2"].Count);
        Assert.Equal(6u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
        Assert.Equal(2u, (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount);

        await consuming.BasicAckAsync(unacked.Max(), multiple: true);   // returns all four credits
        await WaitUntilAsync(() => unacked.Count == 8);
        await consuming.CloseAsync();
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Deleting_a_queue_cancels_its_consumers()
    {
        var (connection, channel, queue) = await QueueWithMessagesAsync(0);
        await using var _ = connection;
        var consumer = new AsyncEventingBasicConsumer(channel);
        var cancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        consumer.UnregisteredAsync += (_, args) =>
        {
            cancelled.TrySetResult(args.ConsumerTags[0]);
            return Task.CompletedTask;
        };
        string tag = await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        Assert.StartsWith("amq.ctag-", tag);
        await using (var other = await connection.CreateChannelAsync())
        {
            await other.QueueDeleteAsync(queue);
        }

        Assert.Equal(tag, await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task An_auto_delete_queue_goes_with_its_last_consumer_but_not_before_it_had_one()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = $"compat-autodelete-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: true);
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount);   // never consumed: still there

        string first = await channel.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(channel));
        string second = await channel.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(channel));
        await channel.BasicCancelAsync(first);
        Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount);
        await channel.BasicCancelAsync(second);

        await using var check = await connection.CreateChannelAsync();
        var closed = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        check.ChannelShutdownAsync += (_, args) =>
        {
            closed.TrySetResult(args);
            return Task.CompletedTask;
        };
        await Assert.ThrowsAnyAsync<Exception>(() => check.QueueDeclarePassiveAsync(queue));
        Assert.Equal(404, (await closed.Task.WaitAsync(TimeSpan.FromSeconds(10))).ReplyCode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }
}
