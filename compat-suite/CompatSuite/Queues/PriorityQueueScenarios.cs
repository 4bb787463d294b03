using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;

namespace CompatSuite.Queues;

/// <summary>
/// Priority queues (x-max-priority, rabbitmq.com/priority) as RabbitMQ 3.10's rabbit_priority_queue runs
/// them: the highest-priority ready message first, FIFO within a priority, a priority above the maximum
/// counted as the maximum, requeued messages back at their own priority, and the queue still one queue for
/// counts, purge, max-length and dead-lettering.
/// </summary>
public sealed class PriorityQueueScenarios
{
    private static async Task<(IConnection Connection, IChannel Channel)> OpenAsync()
    {
        var connection = await Broker.ConnectAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return (connection, channel);
    }

    private static Task DeclarePriorityQueueAsync(IChannel channel, string queue, int maxPriority, Dictionary<string, object?>? more = null)
    {
        var arguments = new Dictionary<string, object?>(more ?? []) { ["x-max-priority"] = maxPriority };
        return channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false, arguments);
    }

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

            await channel.BasicPublishAsync("", queue, true, properties, Encoding.UTF8.GetBytes(body));
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

    [Fact]
    public async Task Basic_get_takes_the_highest_priority_first_and_fifo_within_a_priority()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority");
        await DeclarePriorityQueueAsync(channel, queue, 5);
        await PublishAsync(channel, queue, ("low-1", 1), ("none", null), ("high-1", 5), ("mid", 3), ("high-2", 5), ("low-2", 1), ("zero", 0));

        Assert.Equal(7u, await Scenario.MessageCountAsync(channel, queue));
        BasicGetResult first = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.Equal("high-1", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal(6u, first.MessageCount);   // the rest of the queue, every priority counted
        Assert.Equal(5, first.BasicProperties.Priority);
        Assert.Equal(["high-2", "mid", "low-1", "low-2", "none", "zero"], await GetAllAsync(channel, queue));

        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_priority_above_the_maximum_counts_as_the_maximum_and_keeps_its_property()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority-capped");
        await DeclarePriorityQueueAsync(channel, queue, 2);
        await PublishAsync(channel, queue, ("p1", 1), ("p200", 200), ("p2", 2), ("p9", 9));

        BasicGetResult first = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.Equal("p200", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal(200, first.BasicProperties.Priority);   // delivered as published
        Assert.Equal(["p2", "p9", "p1"], await GetAllAsync(channel, queue));

        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Max_priority_zero_is_accepted_and_the_queue_stays_fifo_and_256_is_refused()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority-zero");
        await DeclarePriorityQueueAsync(channel, queue, 0);
        await PublishAsync(channel, queue, ("a", 0), ("b", 9), ("c", null));

        Assert.Equal(["a", "b", "c"], await GetAllAsync(channel, queue));
        await channel.QueueDeleteAsync(queue);

        string tooMany = Scenario.Unique("priority-256");
        var refused = await Scenario.ExpectChannelClosedAsync(channel, () => DeclarePriorityQueueAsync(channel, tooMany, 256));
        Assert.Equal(406, refused.ReplyCode);
        Assert.Equal($"PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue '{tooMany}' in vhost '/': {{max_value_exceeded,256}}", refused.ReplyText);
    }

    [Fact]
    public async Task A_consumer_receives_by_priority_and_a_requeued_message_returns_to_its_priority()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority-consume");
        await DeclarePriorityQueueAsync(channel, queue, 10);
        await PublishAsync(channel, queue, ("low", 1), ("high", 8), ("mid", 4));

        // Taken and requeued: it goes back among the priority-8 messages, ahead of the later one there.
        BasicGetResult high = (await channel.BasicGetAsync(queue, autoAck: false))!;
        Assert.Equal("high", Encoding.UTF8.GetString(high.Body.Span));
        await PublishAsync(channel, queue, ("high-later", 8));
        await channel.BasicNackAsync(high.DeliveryTag, multiple: false, requeue: true);
        await Scenario.WaitForMessageCountAsync(channel, queue, 4);

        var (consumer, deliveries) = Scenario.RecordingConsumer(channel);
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        await Scenario.WaitUntilAsync(() => deliveries.Count == 4, "4 deliveries");
        Delivery[] seen = deliveries.Snapshot();
        Assert.Equal(["high", "high-later", "mid", "low"], seen.Select(d => Encoding.UTF8.GetString(d.Body)));
        Assert.Equal([true, false, false, false], seen.Select(d => d.Redelivered));

        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Counts_purge_and_delete_cover_every_priority()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority-counts");
        await DeclarePriorityQueueAsync(channel, queue, 3);
        await PublishAsync(channel, queue, ("a", 0), ("b", 1), ("c", 2), ("d", 3));

        // A redeclare with the same arguments is the same queue, with all its messages.
        QueueDeclareOk redeclared = await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-max-priority"] = 3 });
        Assert.Equal(4u, redeclared.MessageCount);
        var notEmpty = await Scenario.ExpectChannelClosedAsync(channel, () => channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: true));
        Assert.Equal(406, notEmpty.ReplyCode);
        Assert.StartsWith($"PRECONDITION_FAILED - queue '{queue}' in vhost '/' not empty", notEmpty.ReplyText);

        channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        Assert.Equal(4u, await channel.QueuePurgeAsync(queue));
        Assert.Equal(0u, await Scenario.MessageCountAsync(channel, queue));
        await PublishAsync(channel, queue, ("e", 3), ("f", 0));
        Assert.Equal(2u, await channel.QueueDeleteAsync(queue));
    }

    [Fact]
    public async Task Drop_head_on_a_full_priority_queue_drops_the_message_that_would_be_delivered_next()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dead = Scenario.Unique("dead"), queue = Scenario.Unique("priority-bounded");
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await DeclarePriorityQueueAsync(channel, queue, 5, new() { ["x-max-length"] = 2, ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await PublishAsync(channel, queue, ("low", 1), ("high", 5), ("mid", 3));

        await Scenario.WaitForMessageCountAsync(channel, dead, 1);
        Assert.Equal(2u, await Scenario.MessageCountAsync(channel, queue));
        BasicGetResult dropped = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("high", Encoding.UTF8.GetString(dropped.Body.Span));
        Assert.Equal(5, dropped.BasicProperties.Priority);
        Assert.Equal(["mid", "low"], await GetAllAsync(channel, queue));

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
    }

    [Fact]
    public async Task A_full_reject_publish_priority_queue_refuses_even_a_higher_priority_message()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("priority-strict");
        await DeclarePriorityQueueAsync(channel, queue, 5, new() { ["x-max-length"] = 2, ["x-overflow"] = "reject-publish" });
        await PublishAsync(channel, queue, ("low", 1), ("mid", 3));

        await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.PublishException>(() => PublishAsync(channel, queue, ("high", 5)));
        Assert.Equal(["mid", "low"], await GetAllAsync(channel, queue));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Expired_messages_of_every_priority_are_dead_lettered_and_keep_their_priority_in_a_priority_dead_letter_queue()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dead = Scenario.Unique("dead-priority"), queue = Scenario.Unique("priority-ttl");
        await DeclarePriorityQueueAsync(channel, dead, 5);
        await DeclarePriorityQueueAsync(channel, queue, 5, new() { ["x-message-ttl"] = 200, ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await PublishAsync(channel, queue, ("low", 1), ("high", 5), ("none", null));

        await Scenario.WaitForMessageCountAsync(channel, queue, 0);
        await Scenario.WaitForMessageCountAsync(channel, dead, 3);
        BasicGetResult first = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("high", Encoding.UTF8.GetString(first.Body.Span));
        var death = (IDictionary<string, object?>)((IList<object?>)first.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("expired", Encoding.UTF8.GetString((byte[])death["reason"]!));
        Assert.Equal(["low", "none"], await GetAllAsync(channel, dead));

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
    }
    [Fact]
    public async Task A_message_with_its_own_expiration_waits_behind_a_live_higher_priority_one_and_never_is_delivered()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dead = Scenario.Unique("dead"), queue = Scenario.Unique("priority-expiration");
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await DeclarePriorityQueueAsync(channel, queue, 5, new() { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await PublishAsync(channel, queue, ("lasting", 5));
        await channel.BasicPublishAsync("", queue, true, new BasicProperties { Priority = 1, Expiration = "100" }, Encoding.UTF8.GetBytes("brief"));

        // Only the queue's head expires on its own, and the head is the priority-5 message, which never expires.
        await Task.Delay(500);
        Assert.Equal(2u, await Scenario.MessageCountAsync(channel, queue));
        Assert.Equal(0u, await Scenario.MessageCountAsync(channel, dead));

        Assert.Equal("lasting", Encoding.UTF8.GetString((await channel.BasicGetAsync(queue, autoAck: true))!.Body.Span));
        Assert.Null(await channel.BasicGetAsync(queue, autoAck: true));   // expired: dead-lettered, not delivered
        await Scenario.WaitForMessageCountAsync(channel, dead, 1);
        BasicGetResult copy = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("brief", Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Equal(1, copy.BasicProperties.Priority);

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
    }
}
