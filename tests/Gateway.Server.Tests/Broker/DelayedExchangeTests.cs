using System.Text;
using Gateway.Broker.Delays;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// The x-delayed-message exchange (rabbitmq-delayed-message-exchange plugin) on a fake clock: delayed messages are held
/// durably and routed through the exchange's bindings of the moment they come due. Debian's RabbitMQ 3.10.8 has no such
/// plugin, so the behaviour checked here is the plugin's source (rabbit_exchange_type_delayed_message, rabbit_delayed_message).
/// </summary>
public sealed class DelayedExchangeTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private static readonly CreateChannelOptions Confirms = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private static Dictionary<string, object?> DelayedType(string type) => new() { ["x-delayed-type"] = type };

    private static BasicProperties Delayed(object? delay, string? messageId = null) =>
        new() { MessageId = messageId, Headers = new Dictionary<string, object?> { ["x-delay"] = delay } };

    private static async Task<uint> CountAsync(IChannel channel, string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    private static async Task WaitForCountAsync(IChannel channel, string queue, uint count) =>
        await GatewayFixture.WaitUntilAsync(() => CountAsync(channel, queue).GetAwaiter().GetResult() == count, because: $"{queue} should hold {count}");

    /// <summary>A delayed exchange of <paramref name="type"/> named "delayed" with queue <paramref name="queue"/> bound by <paramref name="key"/>.</summary>
    private static async Task DeclareAsync(IChannel channel, string type = "direct", string queue = "q", string key = "k")
    {
        await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType(type));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, "delayed", key);
    }

    private async Task AdvanceAndSettleAsync(TimeSpan by)
    {
        Gateway.Time!.Advance(by);
        await Task.Delay(150);   // lets the store's mover run (an absence can only be asserted after a pause)
    }

    [Fact]
    public async Task A_delayed_message_is_routed_when_its_delay_has_passed_and_not_before_keeping_its_properties_with_x_delay_negated()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        var properties = new BasicProperties
        {
            MessageId = "m1",
            ContentType = "text/plain",
            Headers = new Dictionary<string, object?> { ["x-delay"] = 5000, ["app"] = "kept" },
        };
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, properties, Encoding.UTF8.GetBytes("later"));

        await AdvanceAndSettleAsync(TimeSpan.FromMilliseconds(4999));
        Assert.Equal(0u, await CountAsync(channel, "q"));
        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(2));
        await WaitForCountAsync(channel, "q", 1);

        BasicGetResult got = (await channel.BasicGetAsync("q", autoAck: true))!;
        Assert.Equal("later", Encoding.UTF8.GetString(got.Body.Span));
        Assert.Equal("m1", got.BasicProperties.MessageId);
        Assert.Equal("text/plain", got.BasicProperties.ContentType);
        Assert.Equal("delayed", got.Exchange);
        Assert.Equal("k", got.RoutingKey);
        Assert.False(got.Redelivered);
        // rabbit_delayed_message_utils:swap_delay_header: the routed copy says how long it was delayed, negated.
        Assert.Equal(-5000, got.BasicProperties.Headers!["x-delay"]);
        Assert.Equal("kept", Encoding.UTF8.GetString((byte[])got.BasicProperties.Headers["app"]!));
    }

    [Fact]
    public async Task Messages_arrive_in_the_order_of_their_due_times_not_of_their_publishes()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        foreach (var (delay, id) in new[] { (3000, "third"), (1000, "first"), (2000, "second") })
        {
            await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(delay, id), Array.Empty<byte>());
        }

        await AdvanceAndSettleAsync(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(1u, await CountAsync(channel, "q"));
        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(2000));
        await WaitForCountAsync(channel, "q", 3);
        var order = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            order.Add((await channel.BasicGetAsync("q", autoAck: true))!.BasicProperties.MessageId);
        }

        Assert.Equal(["first", "second", "third"], order);
    }

    [Fact]
    public async Task Without_a_positive_delay_in_range_a_message_is_routed_at_once_with_its_header_unchanged()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, new BasicProperties { MessageId = "no-header" }, Array.Empty<byte>());
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(0, "zero"), Array.Empty<byte>());
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(-5, "negative"), Array.Empty<byte>());
        // Beyond an Erlang timer's 2^32-1 ms the plugin does not delay.
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(4_294_967_296L, "too-long"), Array.Empty<byte>());
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed("not a number", "text"), Array.Empty<byte>());

        Assert.Equal(5u, await CountAsync(channel, "q"));
        Assert.Equal("no-header", (await channel.BasicGetAsync("q", autoAck: true))!.BasicProperties.MessageId);
        Assert.Equal(0, (await channel.BasicGetAsync("q", autoAck: true))!.BasicProperties.Headers!["x-delay"]);
        Assert.Equal(-5, (await channel.BasicGetAsync("q", autoAck: true))!.BasicProperties.Headers!["x-delay"]);
    }

    [Fact]
    public async Task A_string_or_long_x_delay_delays_as_an_integer_does()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed("1000"), Array.Empty<byte>());
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(1000L), Array.Empty<byte>());

        await AdvanceAndSettleAsync(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0u, await CountAsync(channel, "q"));
        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(2));
        await WaitForCountAsync(channel, "q", 2);
    }

    [Fact]
    public async Task A_topic_delayed_exchange_routes_by_topic_patterns_when_due()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, "topic", "orders", "order.*");
        await channel.QueueDeclareAsync("everything", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("everything", "delayed", "#");
        await channel.BasicPublishAsync("delayed", "order.created", mandatory: false, Delayed(1000), Array.Empty<byte>());
        await channel.BasicPublishAsync("delayed", "invoice.paid.late", mandatory: false, Delayed(1000), Array.Empty<byte>());

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(1000));
        await WaitForCountAsync(channel, "everything", 2);
        Assert.Equal(1u, await CountAsync(channel, "orders"));
    }

    [Fact]
    public async Task A_fanout_delayed_exchange_reaches_every_bound_queue_and_a_headers_one_matches_the_stored_headers()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.ExchangeDeclareAsync("fan", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("fanout"));
        await channel.ExchangeDeclareAsync("match", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("headers"));
        foreach (string queue in new[] { "f1", "f2", "h" })
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        }

        await channel.QueueBindAsync("f1", "fan", "");
        await channel.QueueBindAsync("f2", "fan", "");
        await channel.QueueBindAsync("h", "match", "", new Dictionary<string, object?> { ["x-match"] = "all", ["kind"] = "audit" });
        await channel.BasicPublishAsync("fan", "ignored", mandatory: false, Delayed(500), Array.Empty<byte>());
        var audit = new BasicProperties { Headers = new Dictionary<string, object?> { ["x-delay"] = 500, ["kind"] = "audit" } };
        await channel.BasicPublishAsync("match", "", mandatory: false, audit, Array.Empty<byte>());
        var other = new BasicProperties { Headers = new Dictionary<string, object?> { ["x-delay"] = 500, ["kind"] = "other" } };
        await channel.BasicPublishAsync("match", "", mandatory: false, other, Array.Empty<byte>());

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(500));
        await WaitForCountAsync(channel, "f1", 1);
        await WaitForCountAsync(channel, "f2", 1);
        await WaitForCountAsync(channel, "h", 1);
        await Task.Delay(100);
        Assert.Equal(1u, await CountAsync(channel, "h"));
    }

    [Fact]
    public async Task The_confirm_comes_once_the_delayed_message_is_stored_in_its_exchange_delay_topic()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(60_000), new byte[] { 1, 2, 3 });   // returns once acked

        string topic = DelayStore.TopicFor(DelayOwner.Exchange("/", "delayed"));
        Gateway.Log.TopicStats stats = Gateway.Log.GetStats(topic);
        Assert.Equal(1, stats.EndOffset);
        Assert.Equal(1, stats.InFlight);   // held by the store until it moves
        Assert.Equal(0u, await CountAsync(channel, "q"));
    }

    [Fact]
    public async Task A_mandatory_delayed_publish_is_returned_as_unroutable_and_still_delivered_when_due_and_the_alternate_exchange_takes_it_at_once()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("ae", ExchangeType.Fanout);
        await channel.QueueDeclareAsync("alternate", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("alternate", "ae", "");
        await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false,
            new Dictionary<string, object?> { ["x-delayed-type"] = "direct", ["alternate-exchange"] = "ae" });
        await channel.ExchangeDeclareAsync("delayed-no-ae", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("direct"));
        await channel.QueueDeclareAsync("q", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("q", "delayed", "k");
        await channel.QueueBindAsync("q", "delayed-no-ae", "k");
        var returns = new List<(ushort Code, string Text, string Exchange)>();
        channel.BasicReturnAsync += (_, args) =>
        {
            lock (returns)
            {
                returns.Add((args.ReplyCode, args.ReplyText, args.Exchange));
            }

            return Task.CompletedTask;
        };

        // The plugin's route/2 returns no queues for a message it delays (its README: mandatory is not supported).
        await channel.BasicPublishAsync("delayed-no-ae", "k", mandatory: true, Delayed(1000, "returned"), Array.Empty<byte>());
        // And rabbit_exchange hands such a message to the alternate exchange at once (plugin issue #36).
        await channel.BasicPublishAsync("delayed", "k", mandatory: true, Delayed(1000, "to-ae"), Array.Empty<byte>());
        await GatewayFixture.WaitUntilAsync(() => { lock (returns) { return returns.Count == 1; } });
        Assert.Equal((312, "NO_ROUTE", "delayed-no-ae"), returns[0]);
        Assert.Equal(1u, await CountAsync(channel, "alternate"));
        Assert.Equal(1000, (await channel.BasicGetAsync("alternate", autoAck: true))!.BasicProperties.Headers!["x-delay"]);
        Assert.Equal(0u, await CountAsync(channel, "q"));

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(1000));
        await WaitForCountAsync(channel, "q", 2);
        await Task.Delay(100);
        Assert.Single(returns);
        Assert.Equal(0u, await CountAsync(channel, "alternate"));
    }

    [Fact]
    public async Task Routing_uses_the_bindings_of_the_due_time()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel, queue: "before");
        await channel.QueueDeclareAsync("after", durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(1000), Array.Empty<byte>());
        await channel.QueueUnbindAsync("before", "delayed", "k");
        await channel.QueueBindAsync("after", "delayed", "k");

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(1000));
        await WaitForCountAsync(channel, "after", 1);
        Assert.Equal(0u, await CountAsync(channel, "before"));
    }

    [Fact]
    public async Task Deleting_the_exchange_drops_its_pending_messages_even_if_it_is_declared_again()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await DeclareAsync(channel);
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(1000), Array.Empty<byte>());
        string topic = DelayStore.TopicFor(DelayOwner.Exchange("/", "delayed"));
        Assert.True(Gateway.Log.TopicExists(topic));

        await channel.ExchangeDeleteAsync("delayed");
        Assert.False(Gateway.Log.TopicExists(topic));
        await DeclareAsync(channel);
        await AdvanceAndSettleAsync(TimeSpan.FromMilliseconds(2000));
        Assert.Equal(0u, await CountAsync(channel, "q"));
    }

    [Fact]
    public async Task Queue_ttl_counts_from_when_the_message_enters_the_queue()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("direct"));
        await channel.QueueDeclareAsync("q", durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-message-ttl"] = 1000 });
        await channel.QueueBindAsync("q", "delayed", "k");
        await channel.BasicPublishAsync("delayed", "k", mandatory: false, Delayed(5000), Array.Empty<byte>());

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(5000));
        await WaitForCountAsync(channel, "q", 1);
        await AdvanceAndSettleAsync(TimeSpan.FromMilliseconds(900));
        Assert.Equal(1u, await CountAsync(channel, "q"));   // its TTL started at 5000, not at the publish
        Gateway.Time.Advance(TimeSpan.FromMilliseconds(200));
        await WaitForCountAsync(channel, "q", 0);
    }

    [Fact]
    public async Task Declaring_without_a_valid_x_delayed_type_fails_as_the_plugin_validates_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();

        async Task<ShutdownEventArgs> DeclareFailsAsync(IDictionary<string, object?>? arguments)
        {
            await using var channel = await connection.CreateChannelAsync();
            var ex = await Assert.ThrowsAsync<OperationInterruptedException>(
                () => channel.ExchangeDeclareAsync("bad", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, arguments));
            return ex.ShutdownReason!;
        }

        ShutdownEventArgs missing = await DeclareFailsAsync(null);
        Assert.Equal(406, missing.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type", missing.ReplyText);
        ShutdownEventArgs notText = await DeclareFailsAsync(new Dictionary<string, object?> { ["x-delayed-type"] = 5 });
        Assert.Equal(406, notText.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type", notText.ReplyText);
        ShutdownEventArgs itself = await DeclareFailsAsync(DelayedType(DelayedMessageExchange.TypeName));
        Assert.Equal("PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'", itself.ReplyText);
        ShutdownEventArgs unknown = await DeclareFailsAsync(DelayedType("nonsense"));
        Assert.Equal(503, unknown.ReplyCode);
        Assert.Equal("COMMAND_INVALID - unknown exchange type 'nonsense'", unknown.ReplyText);
        Assert.Null(await Gateway.Metadata.GetExchangeAsync("/", "bad"));
    }

    [Fact]
    public async Task A_redeclare_compares_the_type_but_not_x_delayed_type_as_the_plugin_delegates_equivalence()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("direct"));
            // rabbit_exchange_type_delayed_message:assert_args_equivalence is its x-delayed-type's, which compares only
            // alternate-exchange; validate/1 runs only when the exchange is created.
            await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false, DelayedType("topic"));
            await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false);
        }

        await using var other = await connection.CreateChannelAsync();
        var ex = await Assert.ThrowsAsync<OperationInterruptedException>(
            () => other.ExchangeDeclareAsync("delayed", ExchangeType.Direct, durable: true, autoDelete: false, DelayedType("direct")));
        Assert.Equal(406, ex.ShutdownReason!.ReplyCode);
        Assert.Equal(
            "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'delayed' in vhost '/': received 'direct' but current is 'x-delayed-message'",
            ex.ShutdownReason.ReplyText);
    }
}

/// <summary>Delayed messages across a gateway restart: still pending ones wait for their time, ones that came due while it was down go at once.</summary>
public sealed class DelayedExchangeRestartTests
{
    private static readonly CreateChannelOptions Confirms = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Pending_delayed_messages_survive_a_restart_and_those_due_meanwhile_are_routed_promptly()
    {
        string dataDir = Directory.CreateTempSubdirectory("gateway-delayed-").FullName;
        try
        {
            await using (var first = await GatewayFixture.StartOnDataDirAsync(dataDir, fakeTime: true))
            {
                await using var connection = await first.ClientFactory().CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync(Confirms);
                await channel.ExchangeDeclareAsync("delayed", DelayedMessageExchange.TypeName, durable: true, autoDelete: false,
                    new Dictionary<string, object?> { ["x-delayed-type"] = "direct" });
                await channel.QueueDeclareAsync("q", durable: true, exclusive: false, autoDelete: false);
                await channel.QueueBindAsync("q", "delayed", "k");
                await channel.BasicPublishAsync("delayed", "k", mandatory: false,
                    new BasicProperties { MessageId = "soon", Headers = new Dictionary<string, object?> { ["x-delay"] = 300 } }, Array.Empty<byte>());
                await channel.BasicPublishAsync("delayed", "k", mandatory: false,
                    new BasicProperties { MessageId = "later", Headers = new Dictionary<string, object?> { ["x-delay"] = 3_600_000 } }, Array.Empty<byte>());
            }

            // The restarted gateway's fake clock starts at the real time, past "soon"'s due time.
            await Task.Delay(400);
            await using var second = await GatewayFixture.StartOnDataDirAsync(dataDir, fakeTime: true);
            async Task<uint> CountAsync()
            {
                // A fresh connection each time: advancing the fake clock by minutes expires an idle connection's heartbeat.
                await using var connection = await second.ClientFactory().CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
                return (await channel.QueueDeclarePassiveAsync("q")).MessageCount;
            }

            async Task<BasicGetResult> GetAsync()
            {
                await using var connection = await second.ClientFactory().CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
                return (await channel.BasicGetAsync("q", autoAck: true))!;
            }

            await GatewayFixture.WaitUntilAsync(() => CountAsync().GetAwaiter().GetResult() == 1);
            Assert.Equal("soon", (await GetAsync()).BasicProperties.MessageId);

            second.Time!.Advance(TimeSpan.FromMinutes(59));
            await Task.Delay(150);
            Assert.Equal(0u, await CountAsync());
            second.Time.Advance(TimeSpan.FromMinutes(1));
            await GatewayFixture.WaitUntilAsync(() => CountAsync().GetAwaiter().GetResult() == 1);
            BasicGetResult later = await GetAsync();
            Assert.Equal("later", later.BasicProperties.MessageId);
            Assert.Equal(-3_600_000, later.BasicProperties.Headers!["x-delay"]);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
