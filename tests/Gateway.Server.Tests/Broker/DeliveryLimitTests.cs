using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Quorum queues' delivery count (x-delivery-count) and x-delivery-limit with dead-lettering for reason
/// delivery_limit, as RabbitMQ 3.10's rabbit_fifo does it. compat-suite runs the same against RabbitMQ.
/// </summary>
public sealed class DeliveryLimitTests : GatewayTest
{
    private static Dictionary<string, object?> Arguments(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    private static object? DeliveryCount(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers && headers.TryGetValue("x-delivery-count", out object? count) ? count : null;

    private static async Task<IChannel> ConfirmingChannelAsync(IConnection connection) =>
        await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    private static async Task<BasicGetResult> GetAsync(IChannel channel, string queue)
    {
        BasicGetResult? got = null;
        await GatewayFixture.WaitUntilAsync(() => (got = channel.BasicGetAsync(queue, autoAck: false).GetAwaiter().GetResult()) is not null, because: $"{queue} should have a message");
        return got!;
    }

    [Fact]
    public async Task A_quorum_queue_counts_every_return_and_dead_letters_past_its_delivery_limit()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("poison-dlq", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync("poison", durable: true, exclusive: false, autoDelete: false, Arguments(
            ("x-queue-type", "quorum"), ("x-delivery-limit", 2), ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "poison-dlq")));
        await channel.BasicPublishAsync("", "poison", true, new BasicProperties { Headers = new Dictionary<string, object?> { ["app"] = "kept" } }, Encoding.UTF8.GetBytes("bad"));

        // basic.get shows the count from the first delivery on (0), then 1 and 2 after each return.
        for (long expected = 0; expected <= 2; expected++)
        {
            var got = await GetAsync(channel, "poison");
            Assert.Equal(expected, DeliveryCount(got.BasicProperties));
            Assert.Equal(expected > 0, got.Redelivered);
            Assert.Equal("kept", Text(got.BasicProperties.Headers!["app"]));
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        }

        // The third return went past the limit of 2: dead-lettered, not requeued.
        var dead = await GetAsync(channel, "poison-dlq");
        Assert.Equal("bad", Encoding.UTF8.GetString(dead.Body.ToArray()));
        Assert.Null(DeliveryCount(dead.BasicProperties));
        var death = (IDictionary<string, object?>)((IList<object?>)dead.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("delivery_limit", Text(death["reason"]));
        Assert.Equal("poison", Text(death["queue"]));
        Assert.Equal("delivery_limit", Text(dead.BasicProperties.Headers["x-first-death-reason"]));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync("poison")).MessageCount);
    }

    [Fact]
    public async Task Consumers_see_the_count_only_after_a_return_and_a_closed_channel_counts_as_one()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("counted", durable: true, exclusive: false, autoDelete: false, Arguments(("x-queue-type", "quorum")));
        await channel.BasicPublishAsync("", "counted", Encoding.UTF8.GetBytes("m"));

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
            await consuming.BasicConsumeAsync("counted", autoAck: false, consumer);
            var args = await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
            seen.Add(DeliveryCount(args.BasicProperties));
            await consuming.CloseAsync();   // unacknowledged: returned to the queue, which counts
        }

        Assert.Equal([null, 1L], seen);
        Assert.Equal(2L, DeliveryCount((await GetAsync(channel, "counted")).BasicProperties));
    }

    [Fact]
    public async Task A_delivery_limit_of_zero_drops_a_returned_message_without_a_dead_letter_exchange()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("once", durable: true, exclusive: false, autoDelete: false, Arguments(("x-queue-type", "quorum"), ("x-delivery-limit", 0)));
        await channel.BasicPublishAsync("", "once", Encoding.UTF8.GetBytes("m"));
        var got = await GetAsync(channel, "once");
        await channel.BasicRejectAsync(got.DeliveryTag, requeue: true);
        await GatewayFixture.WaitUntilAsync(() => channel.QueueDeclarePassiveAsync("once").GetAwaiter().GetResult().MessageCount == 0, because: "the return went past the limit");
        Assert.Null(await channel.BasicGetAsync("once", autoAck: true));
    }

    [Fact]
    public async Task Classic_queues_carry_no_delivery_count()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("classic", durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "classic", Encoding.UTF8.GetBytes("m"));
        for (int i = 0; i < 3; i++)
        {
            var got = await GetAsync(channel, "classic");
            Assert.Null(DeliveryCount(got.BasicProperties));
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        }
    }
}
