using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static CompatSuite.Fixtures.Scenario;

namespace CompatSuite.Publishing;

/// <summary>
/// Routing by every exchange type and the RabbitMQ extensions applications lean on: amq.* exchanges,
/// exchange-to-exchange bindings, alternate, internal and auto-delete exchanges, CC/BCC.
/// Counts are read with queue.declare (passive) on a confirm channel, so every publish has been routed by then.
/// </summary>
public sealed class RoutingScenarios
{
    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private static ValueTask PublishAsync(IChannel channel, string exchange, string key, BasicProperties? properties = null) =>
        channel.BasicPublishAsync(exchange, key, mandatory: false, properties ?? new BasicProperties(), Encoding.UTF8.GetBytes(key));

    private static async Task<string> QueueBoundToAsync(IChannel channel, string exchange, string key, IDictionary<string, object?>? arguments = null)
    {
        string queue = Unique("q");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, key, arguments);
        return queue;
    }

    [Fact]
    public async Task Direct_and_fanout_exchanges_route_by_exact_key_and_to_every_binding()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string direct = Unique("direct"), fanout = Unique("fanout");
        await channel.ExchangeDeclareAsync(direct, ExchangeType.Direct);
        await channel.ExchangeDeclareAsync(fanout, ExchangeType.Fanout);
        string red = await QueueBoundToAsync(channel, direct, "red");
        string redAndBlue = await QueueBoundToAsync(channel, direct, "red");
        await channel.QueueBindAsync(redAndBlue, direct, "blue");
        string fanA = await QueueBoundToAsync(channel, fanout, "ignored");
        string fanB = await QueueBoundToAsync(channel, fanout, "");

        await PublishAsync(channel, direct, "red");
        await PublishAsync(channel, direct, "blue");
        await PublishAsync(channel, direct, "red.sub");   // direct keys match exactly: nobody
        await PublishAsync(channel, fanout, "anything");
        await PublishAsync(channel, fanout, "");

        Assert.Equal(1u, await MessageCountAsync(channel, red));
        Assert.Equal(2u, await MessageCountAsync(channel, redAndBlue));   // one copy per message, not per binding
        Assert.Equal(2u, await MessageCountAsync(channel, fanA));
        Assert.Equal(2u, await MessageCountAsync(channel, fanB));
        foreach (string queue in new[] { red, redAndBlue, fanA, fanB })
        {
            await channel.QueueDeleteAsync(queue);
        }

        await channel.ExchangeDeleteAsync(direct);
        await channel.ExchangeDeleteAsync(fanout);
    }

    [Fact]
    public async Task Headers_exchange_matches_all_or_any_of_the_binding_arguments()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string headers = Unique("headers");
        await channel.ExchangeDeclareAsync(headers, ExchangeType.Headers);
        string all = await QueueBoundToAsync(channel, headers, "", new Dictionary<string, object?> { ["x-match"] = "all", ["format"] = "pdf", ["type"] = "report" });
        string any = await QueueBoundToAsync(channel, headers, "", new Dictionary<string, object?> { ["x-match"] = "any", ["format"] = "pdf", ["type"] = "log" });

        static BasicProperties With(params (string Key, string Value)[] pairs) =>
            new() { Headers = pairs.ToDictionary(p => p.Key, p => (object?)p.Value) };
        await PublishAsync(channel, headers, "k", With(("format", "pdf"), ("type", "report")));   // all and any
        await PublishAsync(channel, headers, "k", With(("format", "zip"), ("type", "log")));      // any
        await PublishAsync(channel, headers, "k", With(("format", "pdf")));                       // any (all needs both)
        await PublishAsync(channel, headers, "k", With(("format", "zip")));                       // neither
        await PublishAsync(channel, headers, "k");                                                // no headers: neither

        Assert.Equal(1u, await MessageCountAsync(channel, all));
        Assert.Equal(3u, await MessageCountAsync(channel, any));
        await channel.QueueDeleteAsync(all);
        await channel.QueueDeleteAsync(any);
        await channel.ExchangeDeleteAsync(headers);
    }

    [Fact]
    public async Task The_amq_exchanges_exist_and_route()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        foreach (string name in new[] { "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match" })
        {
            await channel.ExchangeDeclarePassiveAsync(name);
        }

        string viaFanout = await QueueBoundToAsync(channel, "amq.fanout", "");
        string viaTopic = await QueueBoundToAsync(channel, "amq.topic", $"{viaFanout}.*");
        await PublishAsync(channel, "amq.fanout", "whatever");
        await PublishAsync(channel, "amq.topic", $"{viaFanout}.created");
        Assert.True(await MessageCountAsync(channel, viaFanout) >= 1);   // amq.fanout is shared: other runs may add
        Assert.Equal(1u, await MessageCountAsync(channel, viaTopic));
        await channel.QueueDeleteAsync(viaFanout);
        await channel.QueueDeleteAsync(viaTopic);
    }

    [Fact]
    public async Task Passive_declare_of_a_missing_exchange_is_404()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string exchange = Unique("absent");
        var reason = await ExpectChannelClosedAsync(channel, () => channel.ExchangeDeclarePassiveAsync(exchange));
        Assert.Equal(404, reason.ReplyCode);
        Assert.Equal($"NOT_FOUND - no exchange '{exchange}' in vhost '/'", reason.ReplyText);
        Assert.Equal(40, reason.ClassId);
        Assert.Equal(10, reason.MethodId);
        Assert.True(connection.IsOpen);
    }

    /// <summary>MassTransit binds an exchange per message type to the consumer's exchange (P1.1).</summary>
    [Fact]
    public async Task An_exchange_to_exchange_binding_routes_until_it_is_unbound()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string source = Unique("src"), destination = Unique("dst");
        await channel.ExchangeDeclareAsync(source, ExchangeType.Topic);
        await channel.ExchangeDeclareAsync(destination, ExchangeType.Fanout);
        await channel.ExchangeBindAsync(destination, source, "orders.*");
        string queue = await QueueBoundToAsync(channel, destination, "");

        await PublishAsync(channel, source, "orders.created");   // through the binding
        await PublishAsync(channel, source, "invoices.created"); // the e2e binding's key does not match
        Assert.Equal(1u, await MessageCountAsync(channel, queue));

        await channel.ExchangeUnbindAsync(destination, source, "orders.*");
        await PublishAsync(channel, source, "orders.created");
        Assert.Equal(1u, await MessageCountAsync(channel, queue));

        // Deleting the source removes its bindings, the destination stays.
        await channel.ExchangeBindAsync(destination, source, "#");
        await channel.ExchangeDeleteAsync(source);
        await channel.ExchangeDeclarePassiveAsync(destination);
        await channel.QueueDeleteAsync(queue);
        await channel.ExchangeDeleteAsync(destination);
    }

    [Fact]
    public async Task An_alternate_exchange_takes_what_its_exchange_cannot_route()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string main = Unique("main"), alternate = Unique("ae");
        await channel.ExchangeDeclareAsync(alternate, ExchangeType.Fanout);
        await channel.ExchangeDeclareAsync(main, ExchangeType.Direct, durable: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["alternate-exchange"] = alternate });
        string routed = await QueueBoundToAsync(channel, main, "known");
        string unrouted = await QueueBoundToAsync(channel, alternate, "");

        await PublishAsync(channel, main, "known");
        await PublishAsync(channel, main, "unknown");
        // Mandatory and unroutable by the exchange itself, but the alternate exchange routes it: no basic.return
        // (a return would fail this confirmed publish with PublishException).
        await channel.BasicPublishAsync(main, "unknown-too", mandatory: true, new BasicProperties(), "m"u8.ToArray());

        Assert.Equal(1u, await MessageCountAsync(channel, routed));
        Assert.Equal(2u, await MessageCountAsync(channel, unrouted));
        BasicGetResult viaAlternate = (await channel.BasicGetAsync(unrouted, autoAck: true))!;
        Assert.Equal(main, viaAlternate.Exchange);   // delivered with the exchange it was published to
        Assert.Equal("unknown", viaAlternate.RoutingKey);
        await channel.QueueDeleteAsync(routed);
        await channel.QueueDeleteAsync(unrouted);
        await channel.ExchangeDeleteAsync(main);
        await channel.ExchangeDeleteAsync(alternate);
    }

    /// <summary>
    /// RabbitMQ.Client has no way to set exchange.declare's <c>internal</c> bit, so the exchange is declared with a
    /// raw frame; everything else goes through the client.
    /// </summary>
    [Fact]
    public async Task An_internal_exchange_refuses_publishes_with_403_but_routes_from_other_exchanges()
    {
        string internalExchange = Unique("internal"), front = Unique("front");
        await using (var raw = await RawAmqpClient.ConnectAsync())
        {
            await raw.HandshakeAsync();
            await raw.ExpectMethodAsync(10, 41);
            await raw.OpenChannelAsync(1);
            await raw.ExpectMethodAsync(20, 11);
            const byte internalBit = 1 << 3;   // bits in order: passive, durable, auto-delete, internal, no-wait
            await raw.SendMethodAsync(1, 40, 10, new MethodArgs().Short(0).ShortStr(internalExchange).ShortStr("fanout").Octet(internalBit).EmptyTable());
            await raw.ExpectMethodAsync(40, 11);
        }

        await using var connection = await Broker.ConnectAsync();
        await using (var channel = await connection.CreateChannelAsync(Confirms))
        {
            await channel.ExchangeDeclareAsync(front, ExchangeType.Direct);
            await channel.ExchangeBindAsync(internalExchange, front, "in");
            string queue = await QueueBoundToAsync(channel, internalExchange, "");
            await PublishAsync(channel, front, "in");
            Assert.Equal(1u, await MessageCountAsync(channel, queue));
            await channel.QueueDeleteAsync(queue);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            Task<ShutdownEventArgs> closed = ClosedAsync(channel);
            await channel.BasicPublishAsync(internalExchange, "", "x"u8.ToArray());
            ShutdownEventArgs reason = await closed;
            Assert.Equal(403, reason.ReplyCode);
            Assert.Equal($"ACCESS_REFUSED - cannot publish to internal exchange '{internalExchange}' in vhost '/'", reason.ReplyText);
            Assert.Equal(60, reason.ClassId);
            Assert.Equal(40, reason.MethodId);
        }

        await using var cleanup = await connection.CreateChannelAsync();
        await cleanup.ExchangeDeleteAsync(front);
        await cleanup.ExchangeDeleteAsync(internalExchange);
    }

    [Fact]
    public async Task An_auto_delete_exchange_goes_with_its_last_binding_but_not_before_it_had_one()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string exchange = Unique("autodelete"), queue = Unique("q");
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: false, autoDelete: true);
        await channel.ExchangeDeclarePassiveAsync(exchange);   // never bound: still there
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, "a");
        await channel.QueueBindAsync(queue, exchange, "b");
        await channel.QueueUnbindAsync(queue, exchange, "a");
        await channel.ExchangeDeclarePassiveAsync(exchange);   // one binding left
        await channel.QueueUnbindAsync(queue, exchange, "b");

        var reason = await ExpectChannelClosedAsync(channel, () => channel.ExchangeDeclarePassiveAsync(exchange));
        Assert.Equal(404, reason.ReplyCode);
        await using var cleanup = await connection.CreateChannelAsync();
        await cleanup.QueueDeleteAsync(queue);
    }

    /// <summary>
    /// RabbitMQ's sender-selected distribution: CC and BCC (arrays of longstr) are extra routing keys; BCC is taken
    /// out of every copy, CC stays.
    /// </summary>
    [Fact]
    public async Task CC_and_BCC_headers_add_routing_keys_and_BCC_is_removed_from_the_message()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string exchange = Unique("cc");
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct);
        string to = await QueueBoundToAsync(channel, exchange, "to");
        string cc = await QueueBoundToAsync(channel, exchange, "cc");
        string bcc = await QueueBoundToAsync(channel, exchange, "bcc");
        string bystander = await QueueBoundToAsync(channel, exchange, "other");

        var properties = new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                ["CC"] = new List<object?> { "cc" },
                ["BCC"] = new List<object?> { "bcc" },
                ["keep"] = "me",
            },
        };
        await PublishAsync(channel, exchange, "to", properties);

        Assert.Equal(0u, await MessageCountAsync(channel, bystander));
        foreach (string queue in new[] { to, cc, bcc })
        {
            BasicGetResult copy = (await channel.BasicGetAsync(queue, autoAck: true))!;
            Assert.Equal("to", copy.RoutingKey);   // delivered with the key it was published with
            IDictionary<string, object?> headers = copy.BasicProperties.Headers!;
            Assert.Equal("me", Encoding.UTF8.GetString((byte[])headers["keep"]!));
            Assert.Equal("cc", Encoding.UTF8.GetString((byte[])Assert.Single(Assert.IsAssignableFrom<IList<object?>>(headers["CC"]))!));
            Assert.False(headers.ContainsKey("BCC"), $"BCC still in the copy from {queue}");
        }

        foreach (string queue in new[] { to, cc, bcc, bystander })
        {
            await channel.QueueDeleteAsync(queue);
        }

        await channel.ExchangeDeleteAsync(exchange);
    }
}
