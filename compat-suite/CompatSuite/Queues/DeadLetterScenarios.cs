using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;

namespace CompatSuite.Queues;

/// <summary>
/// Message TTL and dead-lettering as RabbitMQ 3.10 does them: x-message-ttl and per-message expiration,
/// dead-letter exchange and routing key, x-death and x-first-death-* headers, cycle detection, and the
/// 406 for an invalid expiration. Real time: TTLs are short and counts are polled.
/// </summary>
public sealed class DeadLetterScenarios
{
    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    private static async Task<(IConnection Connection, IChannel Channel)> OpenAsync()
    {
        var connection = await Broker.ConnectAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return (connection, channel);
    }

    private static async Task<uint> CountAsync(IChannel channel, string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    private static async Task WaitForCountAsync(IChannel channel, string queue, uint count)
    {
        DateTime deadline = DateTime.UtcNow + Scenario.WaitTimeout;
        uint seen;
        while ((seen = await CountAsync(channel, queue)) != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{queue} holds {seen} messages, expected {count}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Expired_messages_move_to_the_dead_letter_exchange_with_x_death()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dlx = Scenario.Unique("dlx"), dead = Scenario.Unique("dead"), queue = Scenario.Unique("ttl");
        await channel.ExchangeDeclareAsync(dlx, ExchangeType.Fanout, autoDelete: false);
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(dead, dlx, "");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-message-ttl"] = 200, ["x-dead-letter-exchange"] = dlx });
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes("m0"));
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes("m1"));

        await WaitForCountAsync(channel, queue, 0);   // nobody consumes: the broker's timer drops them
        await WaitForCountAsync(channel, dead, 2);
        BasicGetResult first = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("m0", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal(dlx, first.Exchange);
        Assert.Equal(queue, first.RoutingKey);
        var headers = first.BasicProperties.Headers!;
        var death = Assert.IsAssignableFrom<IDictionary<string, object?>>(Assert.Single(Assert.IsAssignableFrom<IList<object?>>(headers["x-death"])));
        Assert.Equal(1L, death["count"]);
        Assert.Equal("expired", Text(death["reason"]));
        Assert.Equal(queue, Text(death["queue"]));
        Assert.Equal("", Text(death["exchange"]));
        Assert.Equal([queue], Assert.IsAssignableFrom<IList<object?>>(death["routing-keys"]).Select(Text));
        Assert.IsType<AmqpTimestamp>(death["time"]);
        Assert.Equal("expired", Text(headers["x-first-death-reason"]));
        Assert.Equal(queue, Text(headers["x-first-death-queue"]));
        Assert.Equal("", Text(headers["x-first-death-exchange"]));

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
        await channel.ExchangeDeleteAsync(dlx);
    }

    [Fact]
    public async Task A_message_with_its_own_expiration_is_dead_lettered_without_it_and_keeps_it_as_original_expiration()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dead = Scenario.Unique("dead"), queue = Scenario.Unique("expiring");
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await channel.BasicPublishAsync("", queue, true, new BasicProperties { Expiration = "100" }, Encoding.UTF8.GetBytes("brief"));
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes("lasting"));

        await WaitForCountAsync(channel, dead, 1);
        BasicGetResult copy = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("brief", Encoding.UTF8.GetString(copy.Body.Span));
        Assert.Null(copy.BasicProperties.Expiration);
        Assert.Equal(dead, copy.RoutingKey);
        var death = (IDictionary<string, object?>)((IList<object?>)copy.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("100", Text(death["original-expiration"]));
        BasicGetResult live = (await channel.BasicGetAsync(queue, autoAck: true))!;
        Assert.Equal("lasting", Encoding.UTF8.GetString(live.Body.Span));

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
    }

    [Fact]
    public async Task Rejected_messages_are_dead_lettered_requeued_ones_are_not_and_a_retry_loop_counts_up_x_death()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string jobs = Scenario.Unique("jobs"), wait = Scenario.Unique("wait");
        await channel.QueueDeclareAsync(wait, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-message-ttl"] = 100, ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = jobs });
        await channel.QueueDeclareAsync(jobs, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = wait });
        await channel.BasicPublishAsync("", jobs, true, new BasicProperties(), Encoding.UTF8.GetBytes("job"));

        BasicGetResult first = (await channel.BasicGetAsync(jobs, autoAck: false))!;
        await channel.BasicRejectAsync(first.DeliveryTag, requeue: true);   // requeued: stays, no death
        await WaitForCountAsync(channel, jobs, 1);   // RabbitMQ applies the requeue asynchronously
        for (int round = 0; round < 2; round++)
        {
            BasicGetResult job = (await channel.BasicGetAsync(jobs, autoAck: false))!;
            await channel.BasicNackAsync(job.DeliveryTag, multiple: false, requeue: false);
            await WaitForCountAsync(channel, jobs, 1);   // via the wait queue's TTL, back again
        }

        BasicGetResult back = (await channel.BasicGetAsync(jobs, autoAck: true))!;
        var deaths = ((IList<object?>)back.BasicProperties.Headers!["x-death"]!).Cast<IDictionary<string, object?>>()
            .Select(d => (Text(d["queue"]), Text(d["reason"]), (long)d["count"]!));
        Assert.Equal([(wait, "expired", 2L), (jobs, "rejected", 2L)], deaths);
        Assert.Equal("rejected", Text(back.BasicProperties.Headers["x-first-death-reason"]));
        Assert.Equal(jobs, Text(back.BasicProperties.Headers["x-first-death-queue"]));

        await channel.QueueDeleteAsync(jobs);
        await channel.QueueDeleteAsync(wait);
    }

    [Fact]
    public async Task A_queue_whose_ttl_dead_letters_into_itself_drops_the_message()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("self");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-message-ttl"] = 100, ["x-dead-letter-exchange"] = "" });
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes("loop"));
        await WaitForCountAsync(channel, queue, 0);
        await Task.Delay(500);
        Assert.Equal(0u, await CountAsync(channel, queue));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_queue_at_its_max_length_drops_its_oldest_ready_messages_with_reason_maxlen()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string dead = Scenario.Unique("dead"), queue = Scenario.Unique("bounded");
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-max-length"] = 2, ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes("m0"));
        BasicGetResult unacked = (await channel.BasicGetAsync(queue, autoAck: false))!;   // unacknowledged: not counted
        for (int i = 1; i <= 4; i++)
        {
            await channel.BasicPublishAsync("", queue, true, new BasicProperties(), Encoding.UTF8.GetBytes($"m{i}"));
        }

        await WaitForCountAsync(channel, dead, 2);
        Assert.Equal(2u, await CountAsync(channel, queue));
        Assert.Equal("m3", Encoding.UTF8.GetString((await channel.BasicGetAsync(queue, autoAck: true))!.Body.Span));
        BasicGetResult dropped = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("m1", Encoding.UTF8.GetString(dropped.Body.Span));
        var death = (IDictionary<string, object?>)((IList<object?>)dropped.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("maxlen", Text(death["reason"]));
        await channel.BasicAckAsync(unacked.DeliveryTag, multiple: false);

        await channel.QueueDeleteAsync(queue);
        await channel.QueueDeleteAsync(dead);
    }

    [Fact]
    public async Task A_full_reject_publish_queue_nacks_and_reject_publish_dlx_also_dead_letters()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string fanout = Scenario.Unique("both"), dead = Scenario.Unique("dead"), strict = Scenario.Unique("strict"),
            strictDlx = Scenario.Unique("strict-dlx"), open = Scenario.Unique("open");
        await channel.ExchangeDeclareAsync(fanout, ExchangeType.Fanout, autoDelete: false);
        await channel.QueueDeclareAsync(dead, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(strict, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-max-length"] = 1, ["x-overflow"] = "reject-publish" });
        await channel.QueueDeclareAsync(strictDlx, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?>
            {
                ["x-max-length"] = 1, ["x-overflow"] = "reject-publish-dlx", ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead,
            });
        await channel.QueueDeclareAsync(open, durable: false, exclusive: false, autoDelete: false);
        foreach (string queue in new[] { strict, strictDlx, open })
        {
            await channel.QueueBindAsync(queue, fanout, "");
        }

        await channel.BasicPublishAsync(fanout, "", true, new BasicProperties(), Encoding.UTF8.GetBytes("first"));
        var nack = await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.PublishException>(
            () => channel.BasicPublishAsync(fanout, "", true, new BasicProperties(), Encoding.UTF8.GetBytes("second")).AsTask());
        Assert.False(nack.IsReturn);

        Assert.Equal(1u, await CountAsync(channel, strict));
        Assert.Equal(1u, await CountAsync(channel, strictDlx));
        Assert.Equal(2u, await CountAsync(channel, open));
        await WaitForCountAsync(channel, dead, 1);
        BasicGetResult copy = (await channel.BasicGetAsync(dead, autoAck: true))!;
        Assert.Equal("second", Encoding.UTF8.GetString(copy.Body.Span));
        var death = (IDictionary<string, object?>)((IList<object?>)copy.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal(("maxlen", strictDlx), (Text(death["reason"]), Text(death["queue"])));

        foreach (string queue in new[] { strict, strictDlx, open, dead })
        {
            await channel.QueueDeleteAsync(queue);
        }

        await channel.ExchangeDeleteAsync(fanout);
    }

    [Fact]
    public async Task An_expiration_beyond_32_bits_is_accepted()
    {
        var (connection, channel) = await OpenAsync();
        await using var _ = connection;
        string queue = Scenario.Unique("long-ttl");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", queue, true, new BasicProperties { Expiration = "4294967296" }, new byte[] { 1 });
        Assert.Equal(1u, await CountAsync(channel, queue));
        await channel.QueueDeleteAsync(queue);
    }

    [Theory]
    [InlineData("abc", "no_integer")]
    [InlineData("10s", "{leftover_string,\"s\"}")]
    [InlineData("-5", "{value_negative,-5}")]
    [InlineData("+-5", "no_integer")]
    public async Task An_invalid_expiration_closes_the_channel_with_406(string expiration, string reason)
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var closed = Scenario.ClosedAsync(channel);
        await channel.BasicPublishAsync("", "amq.anything-or-nothing", true, new BasicProperties { Expiration = expiration }, new byte[] { 1 });
        var reasonArgs = await closed;
        Assert.Equal(406, reasonArgs.ReplyCode);
        Assert.Equal($"PRECONDITION_FAILED - invalid expiration '{expiration}': {reason}", reasonArgs.ReplyText);
    }
}
