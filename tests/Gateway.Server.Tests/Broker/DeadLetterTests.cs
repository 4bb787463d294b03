using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Message TTL (x-message-ttl and per-message expiration) and dead-lettering (rejected, expired) with
/// RabbitMQ's x-death headers, on a fake clock so expiry is exact. compat-suite runs the same
/// behaviour against RabbitMQ with real time.
/// </summary>
public sealed class DeadLetterTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private static Dictionary<string, object?> Arguments(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    private static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    /// <summary>Confirms on, so a publish has its timestamp before the test moves the clock.</summary>
    private static Task<IChannel> ConfirmingChannelAsync(IConnection connection) =>
        connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    private async Task<IChannel> ChannelWithDeadLetterQueueAsync(IConnection connection)
    {
        var channel = await ConfirmingChannelAsync(connection);
        await channel.ExchangeDeclareAsync("dlx", ExchangeType.Fanout);
        await channel.QueueDeclareAsync("dead", durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("dead", "dlx", "");
        return channel;
    }

    private async Task<uint> CountAsync(IChannel channel, string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    private async Task WaitForCountAsync(IChannel channel, string queue, uint count) =>
        await GatewayFixture.WaitUntilAsync(() => CountAsync(channel, queue).GetAwaiter().GetResult() == count, because: $"{queue} should hold {count}");

    [Fact]
    public async Task Messages_past_the_queue_ttl_leave_the_queue_for_its_dead_letter_exchange_with_x_death()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ChannelWithDeadLetterQueueAsync(connection);
        await channel.QueueDeclareAsync("short-lived", durable: true, exclusive: false, autoDelete: false,
            Arguments(("x-message-ttl", 1000), ("x-dead-letter-exchange", "dlx")));
        for (int i = 0; i < 3; i++)
        {
            await channel.BasicPublishAsync("", "short-lived", Encoding.UTF8.GetBytes($"m{i}"));
        }

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(100);
        Assert.Equal(3u, await CountAsync(channel, "short-lived"));   // not yet

        Gateway.Time.Advance(TimeSpan.FromMilliseconds(2));
        await WaitForCountAsync(channel, "short-lived", 0);
        await WaitForCountAsync(channel, "dead", 3);

        var first = await channel.BasicGetAsync("dead", autoAck: true);
        Assert.Equal("m0", Encoding.UTF8.GetString(first!.Body.ToArray()));
        Assert.Equal("dlx", first.Exchange);
        Assert.Equal("short-lived", first.RoutingKey);   // no x-dead-letter-routing-key: the original key
        var headers = first.BasicProperties.Headers!;
        var death = Assert.IsAssignableFrom<IDictionary<string, object?>>(Assert.Single(Assert.IsAssignableFrom<IList<object?>>(headers["x-death"])));
        Assert.Equal(1L, death["count"]);
        Assert.Equal("expired", Text(death["reason"]));
        Assert.Equal("short-lived", Text(death["queue"]));
        Assert.Equal("", Text(death["exchange"]));
        Assert.Equal(["short-lived"], Assert.IsAssignableFrom<IList<object?>>(death["routing-keys"]).Select(Text));
        Assert.False(death.ContainsKey("original-expiration"));
        Assert.Equal("expired", Text(headers["x-first-death-reason"]));
        Assert.Equal("short-lived", Text(headers["x-first-death-queue"]));
        Assert.Equal("", Text(headers["x-first-death-exchange"]));
    }

    [Fact]
    public async Task An_expired_message_is_never_delivered_and_a_consumer_gets_the_live_ones_behind_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ChannelWithDeadLetterQueueAsync(connection);
        await channel.QueueDeclareAsync("mixed", durable: false, exclusive: false, autoDelete: false, Arguments(("x-dead-letter-exchange", "dlx")));
        await channel.BasicPublishAsync("", "mixed", true, new BasicProperties { Expiration = "500" }, Encoding.UTF8.GetBytes("brief"));
        await channel.BasicPublishAsync("", "mixed", Encoding.UTF8.GetBytes("lasting"));
        await channel.BasicPublishAsync("", "mixed", true, new BasicProperties { Expiration = "60000" }, Encoding.UTF8.GetBytes("long"));
        Gateway.Time!.Advance(TimeSpan.FromSeconds(1));

        var got = await channel.BasicGetAsync("mixed", autoAck: true);
        Assert.Equal("lasting", Encoding.UTF8.GetString(got!.Body.ToArray()));
        await WaitForCountAsync(channel, "dead", 1);
        var dead = await channel.BasicGetAsync("dead", autoAck: true);
        Assert.Equal("brief", Encoding.UTF8.GetString(dead!.Body.ToArray()));
        Assert.Null(dead.BasicProperties.Expiration);   // removed, so the copy cannot expire again
        var death = (IDictionary<string, object?>)((IList<object?>)dead.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("500", Text(death["original-expiration"]));
        Assert.Equal(1u, await CountAsync(channel, "mixed"));   // "long" still there
    }

    [Fact]
    public async Task A_per_message_expiration_only_expires_at_the_head_as_in_RabbitMQ()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("heads", durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "heads", Encoding.UTF8.GetBytes("no expiry"));
        await channel.BasicPublishAsync("", "heads", true, new BasicProperties { Expiration = "100" }, Encoding.UTF8.GetBytes("brief"));
        Gateway.Time!.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.Equal(2u, await CountAsync(channel, "heads"));   // "brief" waits behind a message that never expires

        Assert.Equal("no expiry", Encoding.UTF8.GetString((await channel.BasicGetAsync("heads", autoAck: true))!.Body.ToArray()));
        Assert.Null(await channel.BasicGetAsync("heads", autoAck: true));   // at the head now, and expired: dropped, not delivered
        Assert.Equal(0u, await CountAsync(channel, "heads"));
    }

    [Fact]
    public async Task Rejected_and_nacked_messages_go_to_the_dead_letter_exchange_with_its_routing_key_and_requeued_ones_do_not()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("dlx-direct", ExchangeType.Direct);
        await channel.QueueDeclareAsync("parking", durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("parking", "dlx-direct", "parked");
        await channel.QueueDeclareAsync("work", durable: true, exclusive: false, autoDelete: false,
            Arguments(("x-dead-letter-exchange", "dlx-direct"), ("x-dead-letter-routing-key", "parked")));
        var cc = new BasicProperties { Headers = new Dictionary<string, object?> { ["CC"] = new List<object?> { "elsewhere" } } };
        for (int i = 0; i < 4; i++)
        {
            await channel.BasicPublishAsync("", "work", true, cc, Encoding.UTF8.GetBytes($"m{i}"));
        }

        var deliveries = new List<BasicGetResult>();
        for (int i = 0; i < 4; i++)
        {
            deliveries.Add((await channel.BasicGetAsync("work", autoAck: false))!);
        }

        await channel.BasicRejectAsync(deliveries[0].DeliveryTag, requeue: false);
        await channel.BasicRejectAsync(deliveries[1].DeliveryTag, requeue: true);
        await channel.BasicNackAsync(deliveries[3].DeliveryTag, multiple: true, requeue: false);   // covers m2 and m3
        await WaitForCountAsync(channel, "parking", 3);
        Assert.Equal(1u, await CountAsync(channel, "work"));   // m1, requeued

        var parked = await channel.BasicGetAsync("parking", autoAck: true);
        Assert.Equal("m0", Encoding.UTF8.GetString(parked!.Body.ToArray()));
        Assert.Equal("parked", parked.RoutingKey);
        var headers = parked.BasicProperties.Headers!;
        Assert.False(headers.ContainsKey("CC"));   // an explicit dead-letter key replaces the CC keys
        var death = (IDictionary<string, object?>)((IList<object?>)headers["x-death"]!)[0]!;
        Assert.Equal("rejected", Text(death["reason"]));
        Assert.Equal(["work", "elsewhere"], ((IList<object?>)death["routing-keys"]!).Select(Text));
    }

    [Fact]
    public async Task A_message_dead_lettered_twice_from_the_same_queue_counts_up_in_one_x_death_entry()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        // retry-wait holds a rejected message for 1 s and sends it back: the classic retry loop, allowed because it contains a rejection.
        await channel.QueueDeclareAsync("retry-wait", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-message-ttl", 1000), ("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "jobs")));
        await channel.QueueDeclareAsync("jobs", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-dead-letter-exchange", ""), ("x-dead-letter-routing-key", "retry-wait")));
        await channel.BasicPublishAsync("", "jobs", Encoding.UTF8.GetBytes("job"));

        for (int round = 1; round <= 2; round++)
        {
            var job = await channel.BasicGetAsync("jobs", autoAck: false);
            await channel.BasicRejectAsync(job!.DeliveryTag, requeue: false);
            await WaitForCountAsync(channel, "retry-wait", 1);
            Gateway.Time!.Advance(TimeSpan.FromSeconds(2));
            await WaitForCountAsync(channel, "jobs", 1);
        }

        var back = await channel.BasicGetAsync("jobs", autoAck: true);
        var deaths = ((IList<object?>)back!.BasicProperties.Headers!["x-death"]!).Cast<IDictionary<string, object?>>().ToList();
        Assert.Equal([("retry-wait", "expired", 2L), ("jobs", "rejected", 2L)], deaths.Select(d => (Text(d["queue"]), Text(d["reason"]), (long)d["count"]!)));
        Assert.Equal("rejected", Text(back.BasicProperties.Headers["x-first-death-reason"]));
        Assert.Equal("jobs", Text(back.BasicProperties.Headers["x-first-death-queue"]));
    }

    [Fact]
    public async Task A_queue_whose_ttl_dead_letters_into_itself_drops_the_message_instead_of_looping()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("loop", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-message-ttl", 100), ("x-dead-letter-exchange", "")));   // default exchange, original key: itself
        await channel.BasicPublishAsync("", "loop", Encoding.UTF8.GetBytes("round and round"));
        Gateway.Time!.Advance(TimeSpan.FromSeconds(1));
        await WaitForCountAsync(channel, "loop", 0);
        await Task.Delay(200);
        Assert.Equal(0u, await CountAsync(channel, "loop"));
    }

    [Fact]
    public async Task A_queue_at_its_max_length_drops_its_oldest_ready_messages_to_the_dead_letter_exchange()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ChannelWithDeadLetterQueueAsync(connection);
        await channel.QueueDeclareAsync("bounded", durable: true, exclusive: false, autoDelete: false,
            Arguments(("x-max-length", 2), ("x-dead-letter-exchange", "dlx")));
        await channel.BasicPublishAsync("", "bounded", Encoding.UTF8.GetBytes("m0"));
        var unacked = await channel.BasicGetAsync("bounded", autoAck: false);   // in flight: not counted against the limit
        for (int i = 1; i <= 4; i++)
        {
            await channel.BasicPublishAsync("", "bounded", Encoding.UTF8.GetBytes($"m{i}"));
        }

        await WaitForCountAsync(channel, "dead", 2);
        Assert.Equal(2u, await CountAsync(channel, "bounded"));
        Assert.Equal("m3", Encoding.UTF8.GetString((await channel.BasicGetAsync("bounded", autoAck: true))!.Body.ToArray()));
        var dropped = await channel.BasicGetAsync("dead", autoAck: true);
        Assert.Equal("m1", Encoding.UTF8.GetString(dropped!.Body.ToArray()));
        var death = (IDictionary<string, object?>)((IList<object?>)dropped.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal("maxlen", Text(death["reason"]));
        await channel.BasicAckAsync(unacked!.DeliveryTag, multiple: false);
    }

    [Fact]
    public async Task A_full_reject_publish_queue_nacks_the_publisher_and_reject_publish_dlx_dead_letters_the_message()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ChannelWithDeadLetterQueueAsync(connection);
        await channel.ExchangeDeclareAsync("both", ExchangeType.Fanout);
        await channel.QueueDeclareAsync("strict", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-max-length", 1), ("x-overflow", "reject-publish")));
        await channel.QueueDeclareAsync("strict-dlx", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-max-length", 1), ("x-overflow", "reject-publish-dlx"), ("x-dead-letter-exchange", "dlx")));
        await channel.QueueDeclareAsync("open", durable: false, exclusive: false, autoDelete: false);
        foreach (string queue in new[] { "strict", "strict-dlx", "open" })
        {
            await channel.QueueBindAsync(queue, "both", "");
        }

        await channel.BasicPublishAsync("both", "", Encoding.UTF8.GetBytes("first"));   // fits everywhere: acked
        var nack = await Assert.ThrowsAsync<PublishException>(() => channel.BasicPublishAsync("both", "", true, new BasicProperties(), Encoding.UTF8.GetBytes("second")).AsTask());
        Assert.False(nack.IsReturn);   // routed, refused: a nack, not a basic.return

        Assert.Equal(1u, await CountAsync(channel, "strict"));
        Assert.Equal(1u, await CountAsync(channel, "strict-dlx"));
        Assert.Equal(2u, await CountAsync(channel, "open"));   // the queue with room still got it
        await WaitForCountAsync(channel, "dead", 1);
        var dead = await channel.BasicGetAsync("dead", autoAck: true);
        Assert.Equal("second", Encoding.UTF8.GetString(dead!.Body.ToArray()));
        var death = (IDictionary<string, object?>)((IList<object?>)dead.BasicProperties.Headers!["x-death"]!)[0]!;
        Assert.Equal(("maxlen", "strict-dlx"), (Text(death["reason"]), Text(death["queue"])));
    }

    [Theory]
    [InlineData("abc", "no_integer")]
    [InlineData("10s", "{leftover_string,\"s\"}")]
    [InlineData("-5", "{value_negative,-5}")]
    [InlineData("+-5", "no_integer")]
    public async Task An_invalid_expiration_closes_the_channel_with_RabbitMQs_406(string expiration, string reason)
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("any", durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "any", true, new BasicProperties { Expiration = expiration }, new byte[] { 1 });
        await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
        Assert.Equal(406, channel.CloseReason!.ReplyCode);
        Assert.Equal($"PRECONDITION_FAILED - invalid expiration '{expiration}': {reason}", channel.CloseReason.ReplyText);
    }
}
