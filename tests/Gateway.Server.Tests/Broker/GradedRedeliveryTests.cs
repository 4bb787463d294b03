using System.Text;
using System.Text.Json.Nodes;
using Gateway.Broker.Queues;
using MetaService.Contracts;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Graded delayed redelivery (our extension, selected by a policy), on a fake clock: a returned message
/// leaves the queue and comes back after the ladder's delay with its count in x-delivery-count, never
/// blocking the messages behind it; past the limit it is dead-lettered, to the queue's dead-letter exchange
/// or to its own dead-letter queue.
/// </summary>
public sealed class GradedRedeliveryTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    private static object? DeliveryCount(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers && headers.TryGetValue("x-delivery-count", out object? count) ? count : null;

    private async Task SetPolicyAsync(string queue, JsonObject definition, string name = "retry")
    {
        await Gateway.Metadata.PutPolicyAsync(new PolicyRecord("/", name, $"^{queue}$", "queues", 0, definition));
        await WaitForPolicyAsync(queue, present: definition.ContainsKey(GradedRedeliveryPolicy.EnabledKey));
    }

    /// <summary>The policy reaches the queue through the change feed.</summary>
    private async Task WaitForPolicyAsync(string queue, bool present) =>
        await GatewayFixture.WaitUntilAsync(
            () => Gateway.Topology.FindQueue("/", queue) is { Dispatch.Source: IQueueMessages messages } && messages.RedeliveryPolicy is not null == present,
            because: $"the policy should {(present ? "" : "no longer ")}apply to {queue}");

    private static async Task<IChannel> ConfirmingChannelAsync(IConnection connection) =>
        await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    private static async Task<BasicGetResult> GetAsync(IChannel channel, string queue)
    {
        BasicGetResult? got = null;
        await GatewayFixture.WaitUntilAsync(() => (got = channel.BasicGetAsync(queue, autoAck: false).GetAwaiter().GetResult()) is not null, because: $"{queue} should have a message");
        return got!;
    }

    private static string Body(BasicGetResult got) => Encoding.UTF8.GetString(got.Body.ToArray());

    [Fact]
    public async Task A_returned_message_comes_back_after_each_step_of_the_ladder_and_lands_in_the_dead_letter_queue_past_the_limit()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("work", durable: true, exclusive: false, autoDelete: false);
        await SetPolicyAsync("work", new JsonObject
        {
            ["graded-redelivery"] = true, ["graded-redelivery-delays"] = "10s 30s", ["graded-redelivery-limit"] = 2,
        });
        await channel.BasicPublishAsync("", "work", true, new BasicProperties { Headers = new Dictionary<string, object?> { ["app"] = "kept" } }, Encoding.UTF8.GetBytes("poison"));
        await channel.BasicPublishAsync("", "work", Encoding.UTF8.GetBytes("fine"));

        var first = await GetAsync(channel, "work");
        Assert.Equal("poison", Body(first));
        Assert.Null(DeliveryCount(first.BasicProperties));
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);

        // It left the queue: the message behind it is next, and nothing else is there.
        var behind = await GetAsync(channel, "work");
        Assert.Equal("fine", Body(behind));
        await channel.BasicAckAsync(behind.DeliveryTag, multiple: false);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.Delays.Pending == 1, because: "the returned message waits in the delay store");
        Assert.Null(await channel.BasicGetAsync("work", autoAck: false));

        Gateway.Time!.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(200);
        Assert.Null(await channel.BasicGetAsync("work", autoAck: false));   // not before its delay
        Gateway.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await GetAsync(channel, "work");
        Assert.Equal(("poison", 1L, true), (Body(second), DeliveryCount(second.BasicProperties), second.Redelivered));
        Assert.Equal("kept", Text(second.BasicProperties.Headers!["app"]));
        await channel.BasicRejectAsync(second.DeliveryTag, requeue: true);

        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.Delays.Pending == 1, because: "the second return waits");
        Gateway.Time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(200);
        Assert.Null(await channel.BasicGetAsync("work", autoAck: false));   // the second step is 30 s
        Gateway.Time.Advance(TimeSpan.FromSeconds(1));
        var third = await GetAsync(channel, "work");
        Assert.Equal(2L, DeliveryCount(third.BasicProperties));
        await channel.BasicNackAsync(third.DeliveryTag, multiple: false, requeue: true);

        // The third return is past the limit of 2: into work.dlq (declared for it: a real, durable queue an
        // operator can read), with its history.
        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.FindQueue("/", "work.dlq") is not null, because: "the dead-letter queue is declared");
        Assert.True((await Gateway.Metadata.GetQueueAsync("/", "work.dlq"))!.Durable);
        var dead = await GetAsync(channel, "work.dlq");
        Assert.Equal("poison", Body(dead));
        Assert.Equal(2L, DeliveryCount(dead.BasicProperties));
        var death = (IDictionary<string, object?>)((IList<object?>)dead.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal(("delivery_limit", "work"), (Text(death["reason"]), Text(death["queue"])));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync("work")).MessageCount);
    }

    [Fact]
    public async Task Past_the_limit_a_queue_with_a_dead_letter_exchange_uses_it_and_a_policy_can_supply_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.ExchangeDeclareAsync("failures", ExchangeType.Fanout);
        await channel.QueueDeclareAsync("parked", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("parked", "failures", "");
        await channel.QueueDeclareAsync("jobs", durable: true, exclusive: false, autoDelete: false);
        await SetPolicyAsync("jobs", new JsonObject
        {
            ["graded-redelivery"] = true, ["graded-redelivery-limit"] = 0, ["dead-letter-exchange"] = "failures",
        });
        await channel.BasicPublishAsync("", "jobs", Encoding.UTF8.GetBytes("once"));
        var got = await GetAsync(channel, "jobs");
        await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);

        var parked = await GetAsync(channel, "parked");
        Assert.Equal("once", Body(parked));
        Assert.Equal("failures", parked.Exchange);
        Assert.Null(await Gateway.Metadata.GetQueueAsync("/", "jobs.dlq"));   // not needed: the queue has a dead-letter exchange
    }

    [Fact]
    public async Task A_closed_channel_still_requeues_at_once_and_removing_the_policy_restores_RabbitMQs_immediate_requeue()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("tasks", durable: true, exclusive: false, autoDelete: false);
        await SetPolicyAsync("tasks", new JsonObject { ["graded-redelivery"] = true });
        await channel.BasicPublishAsync("", "tasks", Encoding.UTF8.GetBytes("t"));

        // A consumer that goes away did not reject the message: it is requeued at once, as in RabbitMQ.
        await using (var consuming = await connection.CreateChannelAsync())
        {
            Assert.NotNull(await GetAsync(consuming, "tasks"));
            await consuming.CloseAsync();
        }

        var again = await GetAsync(channel, "tasks");
        Assert.True(again.Redelivered);
        Assert.Null(DeliveryCount(again.BasicProperties));

        await Gateway.Metadata.DeletePolicyAsync("/", "retry");
        await WaitForPolicyAsync("tasks", present: false);
        await channel.BasicNackAsync(again.DeliveryTag, multiple: false, requeue: true);
        var immediate = await GetAsync(channel, "tasks");   // no clock advance needed
        Assert.Equal("t", Body(immediate));
        Assert.Equal(0, Gateway.Topology.Delays.Pending);
    }

    [Fact]
    public async Task Gwctl_redrive_moves_the_dead_letter_queue_back_with_a_fresh_count_and_its_history()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("orders", durable: true, exclusive: false, autoDelete: false);
        await SetPolicyAsync("orders", new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-limit"] = 0 });
        foreach (string body in new[] { "a", "b" })
        {
            await channel.BasicPublishAsync("", "orders", Encoding.UTF8.GetBytes(body));
            var got = await GetAsync(channel, "orders");
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);   // limit 0: parked at once
        }

        await GatewayFixture.WaitUntilAsync(
            () => Gateway.Topology.FindQueue("/", "orders.dlq") is not null && channel.QueueDeclarePassiveAsync("orders.dlq").GetAwaiter().GetResult().MessageCount == 2,
            because: "both messages are parked");

        var output = new StringWriter();
        int exit = await Gwctl.RedriveCommand.RunAsync(new Uri(Gateway.AmqpUri), "orders", from: null, max: null, output, TextWriter.Null);
        Assert.Equal(Gwctl.RedriveCommand.Moved, exit);
        Assert.Equal("moved 2 messages from orders.dlq to orders", output.ToString().Trim());
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync("orders.dlq")).MessageCount);

        // Both back, in either order: the two parkings are written concurrently (the first one also declares orders.dlq).
        var backAgain = new[] { await GetAsync(channel, "orders"), await GetAsync(channel, "orders") };
        Assert.Equal(["a", "b"], backAgain.Select(Body).Order());
        foreach (var back in backAgain)
        {
            Assert.Null(DeliveryCount(back.BasicProperties));   // a fresh ladder
            var death = (IDictionary<string, object?>)((IList<object?>)back.BasicProperties.Headers!["x-death"]!)[0]!;
            Assert.Equal("delivery_limit", Text(death["reason"]));   // its history stays
        }

        Assert.Equal(Gwctl.RedriveCommand.QueueMissing, await Gwctl.RedriveCommand.RunAsync(new Uri(Gateway.AmqpUri), "nowhere", null, null, TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public async Task A_redelivery_keeps_its_priority_and_no_length_limit_refuses_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("urgent", durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?>
        {
            ["x-max-priority"] = 5, ["x-max-length"] = 1, ["x-overflow"] = "reject-publish",
        });
        await SetPolicyAsync("urgent", new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-delays"] = "5s" });
        await channel.BasicPublishAsync("", "urgent", true, new BasicProperties { Priority = 5 }, Encoding.UTF8.GetBytes("high"));
        var first = await GetAsync(channel, "urgent");
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.Delays.Pending == 1, because: "the returned message waits");

        await channel.BasicPublishAsync("", "urgent", true, new BasicProperties { Priority = 0 }, Encoding.UTF8.GetBytes("low"));   // the queue is full again
        Gateway.Time!.Advance(TimeSpan.FromSeconds(5));
        await GatewayFixture.WaitUntilAsync(
            () => channel.QueueDeclarePassiveAsync("urgent").GetAwaiter().GetResult().MessageCount == 2, because: "the redelivery comes back over the limit");

        var next = await GetAsync(channel, "urgent");
        Assert.Equal(("high", 1L), (Body(next), DeliveryCount(next.BasicProperties)));   // back at its priority, ahead of "low"
    }
}
