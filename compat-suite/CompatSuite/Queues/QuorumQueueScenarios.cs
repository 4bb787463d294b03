using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CompatSuite.Queues;

/// <summary>
/// Quorum queues' delivery count and x-delivery-limit as RabbitMQ 3.10 applies them: x-delivery-count on
/// every basic.get-ok (0 included) but on a consumer's delivery only once returned, every return counts
/// (nack/reject with requeue and a channel closed unacknowledged), and the return past the limit
/// dead-letters the message with reason delivery_limit.
/// </summary>
public sealed class QuorumQueueScenarios
{
    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    private static object? DeliveryCount(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers && headers.TryGetValue("x-delivery-count", out object? count) ? count : null;

    private static async Task<BasicGetResult> GetAsync(IChannel channel, string queue)
    {
        DateTime deadline = DateTime.UtcNow + Scenario.WaitTimeout;
        while (true)
        {
            if (await channel.BasicGetAsync(queue, autoAck: false) is { } got)
            {
                return got;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{queue} stayed empty");
            await Task.Delay(50);   // a requeue is applied asynchronously by RabbitMQ
        }
    }

    [Fact]
    public async Task A_message_returned_past_the_delivery_limit_is_dead_lettered_with_reason_delivery_limit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Scenario.Unique("quorum-limit"), dead = Scenario.Unique("quorum-dlq");
        await channel.QueueDeclareAsync(dead, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum", ["x-delivery-limit"] = 2, ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead,
        });
        try
        {
            await channel.BasicPublishAsync("", queue, true, new BasicProperties { Headers = new Dictionary<string, object?> { ["app"] = "kept" } }, Encoding.UTF8.GetBytes("bad"));
            for (long expected = 0; expected <= 2; expected++)
            {
                BasicGetResult got = await GetAsync(channel, queue);
                Assert.Equal(expected, DeliveryCount(got.BasicProperties));
                Assert.Equal(expected > 0, got.Redelivered);
                await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
            }

            BasicGetResult deadLettered = await GetAsync(channel, dead);
            await channel.BasicAckAsync(deadLettered.DeliveryTag, multiple: false);
            Assert.Equal("bad", Encoding.UTF8.GetString(deadLettered.Body.Span));
            var headers = deadLettered.BasicProperties.Headers!;
            Assert.False(headers.ContainsKey("x-delivery-count"));
            Assert.Equal("kept", Text(headers["app"]));
            var death = Assert.IsAssignableFrom<IDictionary<string, object?>>(Assert.Single(Assert.IsAssignableFrom<IList<object?>>(headers["x-death"])));
            Assert.Equal("delivery_limit", Text(death["reason"]));
            Assert.Equal(queue, Text(death["queue"]));
            Assert.Equal(1L, death["count"]);
            Assert.Equal("delivery_limit", Text(headers["x-first-death-reason"]));
            Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(dead);
        }
    }

    [Fact]
    public async Task A_consumer_sees_the_delivery_count_once_the_message_was_returned_and_a_closed_channel_counts()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Scenario.Unique("quorum-count");
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        try
        {
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("m"));
            var seen = new List<object?>();
            for (int i = 0; i < 2; i++)
            {
                await using var consuming = await connection.CreateChannelAsync();
                var delivered = new TaskCompletionSource<BasicDeliverEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
                var consumer = new AsyncEventingBasicConsumer(consuming);
                consumer.ReceivedAsync += (_, args) =>
                {
                    delivered.TrySetResult(args);
                    return Task.CompletedTask;
                };
                await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
                seen.Add(DeliveryCount((await delivered.Task.WaitAsync(Scenario.WaitTimeout)).BasicProperties));
                await consuming.CloseAsync();
            }

            Assert.Equal([null, 1L], seen);
            BasicGetResult got = await GetAsync(channel, queue);
            Assert.Equal(2L, DeliveryCount(got.BasicProperties));
            await channel.BasicAckAsync(got.DeliveryTag, multiple: false);
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
        }
    }

    [Theory]
    [InlineData("non-durable", false, false, null, null, "invalid property 'non-durable' for queue '{0}' in vhost '/'")]
    [InlineData("exclusive", true, true, null, null, "invalid property 'exclusive-owner' for queue '{0}' in vhost '/'")]
    [InlineData("priority", true, false, "x-max-priority", 5, "invalid arg 'x-max-priority' for queue '{0}' in vhost '/' of queue type rabbit_quorum_queue")]
    public async Task A_quorum_queue_refuses_what_its_type_does_not_support(string label, bool durable, bool exclusive, string? argument, object? value, string text)
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("quorum-" + label);
        var arguments = new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
        if (argument is not null)
        {
            arguments[argument] = value;
        }

        var refused = await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(
            () => channel.QueueDeclareAsync(queue, durable, exclusive, autoDelete: false, arguments));
        Assert.Equal(406, refused.ShutdownReason!.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - " + string.Format(System.Globalization.CultureInfo.InvariantCulture, text, queue), refused.ShutdownReason.ReplyText);
    }

    [Fact]
    public async Task Redeclaring_a_quorum_queue_as_classic_is_inequivalent()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("quorum-equiv");
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        try
        {
            var refused = await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(
                () => channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false));
            Assert.Equal(
                $"PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '{queue}' in vhost '/': received none but current is the value 'quorum' of type 'longstr'",
                refused.ShutdownReason!.ReplyText);
        }
        finally
        {
            await using var cleanup = await connection.CreateChannelAsync();
            await cleanup.QueueDeleteAsync(queue);
        }
    }
}
