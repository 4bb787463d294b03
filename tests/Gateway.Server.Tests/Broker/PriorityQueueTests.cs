using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Priority queues (x-max-priority) on the gateway, on a fake clock so TTLs are exact: delivery order for
/// basic.get and consumers, requeue, counts/purge/delete, TTL and dead-lettering, x-max-length, single
/// active consumer, consumer timeout and a restart. compat-suite Queues/PriorityQueueScenarios.cs runs the
/// same behaviour against RabbitMQ 3.10.
/// </summary>
public sealed class PriorityQueueTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private static Dictionary<string, object?> Arguments(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    private static Task DeclareAsync(IChannel channel, string queue, int maxPriority, params (string Key, object? Value)[] more) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, Arguments([("x-max-priority", maxPriority), .. more]));

    /// <summary>Publishes (confirmed) one message per (body, priority); a null priority leaves the property out.</summary>
    private static async Task PublishAsync(IChannel channel, string queue, params (string Body, byte? Priority)[] messages)
    {
        foreach (var (body, priority) in messages)
        {
            var properties = new BasicProperties();
            if (priority is { } value)
            {
                properties.Priority = value;
            }

            await channel.BasicPublishAsync("", queue, mandatory: true, properties, Encoding.UTF8.GetBytes(body));
        }
    }

    private static async Task<List<string>> GetAllAsync(IChannel channel, string queue)
    {
        var bodies = new List<string>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } result)
        {
            bodies.Add(Encoding.UTF8.GetString(result.Body.Span));
        }

        return bodies;
    }

    private static async Task<uint> CountAsync(IChannel channel, string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    private static Task WaitForCountAsync(IChannel channel, string queue, uint count) =>
        GatewayFixture.WaitUntilAsync(() => CountAsync(channel, queue).GetAwaiter().GetResult() == count, because: $"{queue} should hold {count}");

    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    [Fact]
    public async Task Basic_get_takes_the_highest_priority_first_fifo_within_a_priority_absent_as_0_and_above_the_maximum_as_the_maximum()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "jobs", 5);
        await PublishAsync(channel, "jobs", ("low-1", 1), ("none", null), ("high-1", 5), ("mid", 3), ("capped", 200), ("low-2", 1), ("zero", 0));

        Assert.Equal(7u, await CountAsync(channel, "jobs"));
        BasicGetResult first = (await channel.BasicGetAsync("jobs", autoAck: true))!;
        Assert.Equal("high-1", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal(6u, first.MessageCount);   // every level counts
        Assert.Equal(5, first.BasicProperties.Priority);
        BasicGetResult capped = (await channel.BasicGetAsync("jobs", autoAck: true))!;
        Assert.Equal("capped", Encoding.UTF8.GetString(capped.Body.Span));   // at level 5, behind high-1
        Assert.Equal(200, capped.BasicProperties.Priority);   // the property itself is delivered as published
        Assert.Equal(["mid", "low-1", "low-2", "none", "zero"], await GetAllAsync(channel, "jobs"));
    }

    [Fact]
    public async Task A_queue_without_x_max_priority_ignores_message_priority()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("plain", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync("zero", durable: true, exclusive: false, autoDelete: false, Arguments(("x-max-priority", 0)));
        await PublishAsync(channel, "plain", ("a", 0), ("b", 9), ("c", null));
        await PublishAsync(channel, "zero", ("a", 0), ("b", 9), ("c", null));

        Assert.Equal(["a", "b", "c"], await GetAllAsync(channel, "plain"));
        Assert.Equal(["a", "b", "c"], await GetAllAsync(channel, "zero"));
    }

    [Fact]
    public async Task A_consumer_receives_by_priority_and_requeued_messages_return_to_their_priority_flagged_redelivered()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "work", 10);
        await PublishAsync(channel, "work", ("low", 1), ("high", 8), ("mid", 4));

        BasicGetResult high = (await channel.BasicGetAsync("work", autoAck: false))!;
        BasicGetResult mid = (await channel.BasicGetAsync("work", autoAck: false))!;
        Assert.Equal(["high", "mid"], new[] { high, mid }.Select(r => Encoding.UTF8.GetString(r.Body.Span)));
        await PublishAsync(channel, "work", ("high-later", 8));
        await channel.BasicNackAsync(mid.DeliveryTag, multiple: false, requeue: true);
        await channel.BasicRejectAsync(high.DeliveryTag, requeue: true);
        await WaitForCountAsync(channel, "work", 4);

        var received = new List<(string Body, bool Redelivered)>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            lock (received)
            {
                received.Add((Encoding.UTF8.GetString(args.Body.Span), args.Redelivered));
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync("work", autoAck: true, consumer);
        await GatewayFixture.WaitUntilAsync(() => { lock (received) { return received.Count == 4; } });
        Assert.Equal([("high", true), ("high-later", false), ("mid", true), ("low", false)], received);
    }

    [Fact]
    public async Task A_consumer_with_prefetch_1_gets_a_later_higher_priority_message_before_earlier_lower_ones()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "urgent", 3);
        await PublishAsync(channel, "urgent", ("first", 0), ("second", 0), ("third", 0));
        await channel.BasicQosAsync(0, 1, global: false);

        var deliveries = new System.Collections.Concurrent.BlockingCollection<BasicDeliverEventArgs>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            deliveries.Add(args);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync("urgent", autoAck: false, consumer);
        Assert.True(deliveries.TryTake(out var one, TimeSpan.FromSeconds(10)));
        Assert.Equal("first", Encoding.UTF8.GetString(one.Body.Span));

        await PublishAsync(channel, "urgent", ("express", 3));   // arrives while "first" holds the only credit
        await channel.BasicAckAsync(one.DeliveryTag, multiple: false);
        var rest = new List<string>();
        while (rest.Count < 3 && deliveries.TryTake(out var next, TimeSpan.FromSeconds(10)))
        {
            rest.Add(Encoding.UTF8.GetString(next.Body.Span));
            await channel.BasicAckAsync(next.DeliveryTag, multiple: false);
        }

        Assert.Equal(["express", "second", "third"], rest);
    }

    [Fact]
    public async Task Declare_counts_purge_and_delete_cover_every_level_and_delete_removes_every_level_topic()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "levels", 3);
        await PublishAsync(channel, "levels", ("a", 0), ("b", 1), ("c", 2), ("d", 3));

        QueueDeclareOk redeclared = await channel.QueueDeclareAsync("levels", durable: true, exclusive: false, autoDelete: false, Arguments(("x-max-priority", 3)));
        Assert.Equal(4u, redeclared.MessageCount);
        var different = await Assert.ThrowsAsync<OperationInterruptedException>(() =>
            channel.QueueDeclareAsync("levels", durable: true, exclusive: false, autoDelete: false, Arguments(("x-max-priority", 4))));
        Assert.Equal(406, different.ShutdownReason!.ReplyCode);   // equivalence: still the one queue with max 3
        channel = await connection.CreateChannelAsync(Confirms);
        var notEmpty = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeleteAsync("levels", ifUnused: false, ifEmpty: true));
        Assert.Equal("PRECONDITION_FAILED - queue 'levels' in vhost '/' not empty", notEmpty.ShutdownReason!.ReplyText);

        channel = await connection.CreateChannelAsync(Confirms);
        Assert.Equal(4u, await channel.QueuePurgeAsync("levels"));
        Assert.Equal(0u, await CountAsync(channel, "levels"));
        await PublishAsync(channel, "levels", ("e", 3), ("f", 0));
        string topic = (await Gateway.Metadata.GetQueueAsync("/", "levels"))!.Topic;
        Assert.True(Gateway.Log.TopicExists(topic + ".priority-3"));
        Assert.Equal(2u, await channel.QueueDeleteAsync("levels"));
        Assert.False(Gateway.Log.TopicExists(topic));
        Assert.False(Gateway.Log.TopicExists(topic + ".priority-1"));
        Assert.False(Gateway.Log.TopicExists(topic + ".priority-3"));
    }

    [Fact]
    public async Task Every_level_expires_at_the_queue_ttl_and_the_copies_keep_their_priority_in_a_priority_dead_letter_queue()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "dead", 5);
        await DeclareAsync(channel, "short-lived", 5, ("x-message-ttl", 1000), ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "dead"));
        await PublishAsync(channel, "short-lived", ("low", 1), ("high", 5), ("none", null));

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(100);
        Assert.Equal(3u, await CountAsync(channel, "short-lived"));   // not yet

        Gateway.Time.Advance(TimeSpan.FromMilliseconds(2));
        await WaitForCountAsync(channel, "short-lived", 0);
        await WaitForCountAsync(channel, "dead", 3);
        BasicGetResult first = (await channel.BasicGetAsync("dead", autoAck: true))!;
        Assert.Equal("high", Encoding.UTF8.GetString(first.Body.Span));
        var death = (IDictionary<string, object?>)((IList<object?>)first.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("expired", Text(death["reason"]));
        Assert.Equal("short-lived", Text(death["queue"]));
        Assert.Equal(["low", "none"], await GetAllAsync(channel, "dead"));
    }

    [Fact]
    public async Task Expiry_runs_from_the_queues_head_in_delivery_order_so_a_lower_priority_message_waits_behind_a_live_one()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("dead", durable: true, exclusive: false, autoDelete: false);
        await DeclareAsync(channel, "mixed", 5, ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "dead"));
        await channel.BasicPublishAsync("", "mixed", true, new BasicProperties { Priority = 5, Expiration = "2000" }, Encoding.UTF8.GetBytes("head"));
        await PublishAsync(channel, "mixed", ("lasting", 3));
        await channel.BasicPublishAsync("", "mixed", true, new BasicProperties { Priority = 1, Expiration = "500" }, Encoding.UTF8.GetBytes("brief"));

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(1000));
        await Task.Delay(200);
        Assert.Equal(3u, await CountAsync(channel, "mixed"));   // "brief" is past its time but not the head

        Gateway.Time.Advance(TimeSpan.FromMilliseconds(1001));
        await WaitForCountAsync(channel, "dead", 1);   // the head expired; the sweep stops at the live "lasting"
        Assert.Equal(2u, await CountAsync(channel, "mixed"));
        Assert.Equal("head", Encoding.UTF8.GetString((await channel.BasicGetAsync("dead", autoAck: true))!.Body.Span));

        Assert.Equal(["lasting"], await GetAllAsync(channel, "mixed"));   // "brief" is dead-lettered when reached, never delivered
        await WaitForCountAsync(channel, "dead", 1);
        BasicGetResult copy = (await channel.BasicGetAsync("dead", autoAck: true))!;
        Assert.Equal("brief", Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Equal(1, copy.BasicProperties.Priority);
    }

    [Fact]
    public async Task A_rejected_message_of_a_priority_queue_is_dead_lettered_and_an_acked_one_is_gone()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("dead", durable: true, exclusive: false, autoDelete: false);
        await DeclareAsync(channel, "picky", 9, ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "dead"));
        await PublishAsync(channel, "picky", ("keep", 2), ("refuse", 7));

        BasicGetResult refused = (await channel.BasicGetAsync("picky", autoAck: false))!;
        BasicGetResult kept = (await channel.BasicGetAsync("picky", autoAck: false))!;
        Assert.Equal("refuse", Encoding.UTF8.GetString(refused.Body.Span));
        await channel.BasicRejectAsync(refused.DeliveryTag, requeue: false);
        await channel.BasicAckAsync(kept.DeliveryTag, multiple: false);

        await WaitForCountAsync(channel, "dead", 1);
        BasicGetResult copy = (await channel.BasicGetAsync("dead", autoAck: true))!;
        Assert.Equal("rejected", Text(((IDictionary<string, object?>)((IList<object?>)copy.BasicProperties.Headers!["x-death"]!)[0]!)["reason"]));
        await channel.CloseAsync();
        await using var other = await connection.CreateChannelAsync();
        Assert.Equal(0u, await CountAsync(other, "picky"));   // neither came back when the channel closed
    }

    [Fact]
    public async Task Drop_head_counts_every_level_and_drops_the_next_message_to_be_delivered()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("dead", durable: true, exclusive: false, autoDelete: false);
        await DeclareAsync(channel, "bounded", 5, ("x-max-length", 2), ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "dead"));
        await PublishAsync(channel, "bounded", ("low", 1), ("high", 5), ("mid", 3));

        await WaitForCountAsync(channel, "dead", 1);
        Assert.Equal(2u, await CountAsync(channel, "bounded"));
        BasicGetResult dropped = (await channel.BasicGetAsync("dead", autoAck: true))!;
        Assert.Equal("high", Encoding.UTF8.GetString(dropped.Body.Span));
        Assert.Equal("maxlen", Text(((IDictionary<string, object?>)((IList<object?>)dropped.BasicProperties.Headers!["x-death"]!)[0]!)["reason"]));
        Assert.Equal(["mid", "low"], await GetAllAsync(channel, "bounded"));
    }

    [Fact]
    public async Task Reject_publish_counts_every_level_and_reject_publish_dlx_dead_letters_the_refused_message()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "dead", 5);
        await DeclareAsync(channel, "strict", 5, ("x-max-length", 2), ("x-overflow", "reject-publish"));
        await DeclareAsync(channel, "strict-dlx", 5, ("x-max-length", 1), ("x-overflow", "reject-publish-dlx"),
            ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "dead"));
        await PublishAsync(channel, "strict", ("low", 1), ("mid", 3));
        await PublishAsync(channel, "strict-dlx", ("only", 0));

        await Assert.ThrowsAsync<PublishException>(() => PublishAsync(channel, "strict", ("high", 5)));
        await Assert.ThrowsAsync<PublishException>(() => PublishAsync(channel, "strict-dlx", ("urgent", 4)));
        Assert.Equal(["mid", "low"], await GetAllAsync(channel, "strict"));
        Assert.Equal(["only"], await GetAllAsync(channel, "strict-dlx"));
        await WaitForCountAsync(channel, "dead", 1);
        BasicGetResult copy = (await channel.BasicGetAsync("dead", autoAck: true))!;
        Assert.Equal("urgent", Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Equal(4, copy.BasicProperties.Priority);
    }

    [Fact]
    public async Task Single_active_consumer_receives_a_priority_queue_in_priority_order()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "single", 2, ("x-single-active-consumer", true));
        await PublishAsync(channel, "single", ("b", 0), ("a", 2), ("c", 0));

        var active = new List<string>();
        var standby = new List<string>();
        foreach (var received in new[] { active, standby })
        {
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, args) =>
            {
                lock (received)
                {
                    received.Add(Encoding.UTF8.GetString(args.Body.Span));
                }

                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync("single", autoAck: true, consumer);
        }

        await GatewayFixture.WaitUntilAsync(() => { lock (active) { return active.Count == 3; } });
        Assert.Equal(["a", "b", "c"], active);
        Assert.Empty(standby);
    }

    [Fact]
    public async Task A_delivery_past_the_consumer_timeout_is_requeued_at_its_priority()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "slow", 4, ("x-consumer-timeout", 5000));
        await PublishAsync(channel, "slow", ("held", 4));
        Assert.NotNull(await channel.BasicGetAsync("slow", autoAck: false));   // never acked
        await PublishAsync(channel, "slow", ("later-low", 1), ("later-high", 4));

        Gateway.Time!.Advance(TimeSpan.FromSeconds(6));
        await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
        Assert.Equal(406, channel.CloseReason!.ReplyCode);
        await using var other = await connection.CreateChannelAsync();
        await WaitForCountAsync(other, "slow", 3);
        BasicGetResult again = (await other.BasicGetAsync("slow", autoAck: true))!;
        Assert.Equal("held", Encoding.UTF8.GetString(again.Body.Span));
        Assert.True(again.Redelivered);
        Assert.Equal(["later-high", "later-low"], await GetAllAsync(other, "slow"));
    }

    [Fact]
    public async Task Messages_and_their_priorities_survive_a_restart_and_an_unacked_one_returns_redelivered_at_its_priority()
    {
        string dataDir = Directory.CreateTempSubdirectory("gateway-priority-").FullName;
        try
        {
            await using (var first = await GatewayFixture.StartOnDataDirAsync(dataDir))
            {
                await using var connection = await first.ClientFactory().CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync(Confirms);
                await DeclareAsync(channel, "durable-priority", 5);
                await PublishAsync(channel, "durable-priority", ("low", 1), ("top", 5), ("mid", 3), ("high", 5), ("none", null));
                BasicGetResult inFlight = (await channel.BasicGetAsync("durable-priority", autoAck: false))!;   // in flight when the gateway stops
                Assert.Equal("top", Encoding.UTF8.GetString(inFlight.Body.Span));
            }

            await using var second = await GatewayFixture.StartOnDataDirAsync(dataDir);
            await using var connection2 = await second.ClientFactory().CreateConnectionAsync();
            await using var channel2 = await connection2.CreateChannelAsync(Confirms);
            Assert.Equal(5u, await CountAsync(channel2, "durable-priority"));
            BasicGetResult again = (await channel2.BasicGetAsync("durable-priority", autoAck: true))!;
            Assert.Equal("top", Encoding.UTF8.GetString(again.Body.Span));
            Assert.True(again.Redelivered);
            await PublishAsync(channel2, "durable-priority", ("after", 4));
            Assert.Equal(["high", "after", "mid", "low", "none"], await GetAllAsync(channel2, "durable-priority"));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
