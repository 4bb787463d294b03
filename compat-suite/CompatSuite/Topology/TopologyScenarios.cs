using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Topology;

/// <summary>Exchanges, queues and bindings as RabbitMQ.Client 7.x declares them, with RabbitMQ's refusals.</summary>
public sealed class TopologyScenarios
{
    private static string Unique(string prefix) => $"compat-{prefix}-{Guid.NewGuid():N}";

    private static async Task<ShutdownEventArgs> ExpectChannelClosedAsync(IChannel channel, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<OperationInterruptedException>(action);
        Assert.False(channel.IsOpen);
        return error.ShutdownReason!;
    }

    [Fact]
    public async Task Declare_bind_unbind_and_delete_exchanges_and_queues()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string exchange = Unique("x"), queue = Unique("q");
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: false, autoDelete: false);
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: false, autoDelete: false);   // equivalent: fine
        await channel.ExchangeDeclarePassiveAsync(exchange);
        QueueDeclareOk declared = await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        Assert.Equal(queue, declared.QueueName);
        Assert.Equal(0u, declared.MessageCount);
        Assert.Equal(0u, declared.ConsumerCount);
        await channel.QueueBindAsync(queue, exchange, "orders.#");
        await channel.QueueBindAsync(queue, exchange, "orders.#");   // idempotent
        await channel.QueueUnbindAsync(queue, exchange, "orders.#");
        await channel.QueueUnbindAsync(queue, exchange, "never.bound");   // unbinding nothing is fine
        Assert.Equal(0u, await channel.QueuePurgeAsync(queue));
        Assert.Equal(0u, await channel.QueueDeleteAsync(queue));
        await channel.ExchangeDeleteAsync(exchange);
        await channel.ExchangeDeleteAsync(exchange);   // deleting a missing exchange is fine
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Server_named_queue_and_the_last_declared_queue_shortcut()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        QueueDeclareOk declared = await channel.QueueDeclareAsync();   // "", exclusive, auto-delete
        Assert.StartsWith("amq.gen-", declared.QueueName);
        await channel.QueueBindAsync("", "amq.direct", "");   // "" = the queue just declared, key = its name
        await channel.QueuePurgeAsync("");
        Assert.Equal(0u, await channel.QueueDeleteAsync(""));
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Passive_declare_of_a_missing_queue_is_404_on_the_channel_only()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Unique("absent");
        ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeclarePassiveAsync(queue));
        Assert.Equal(404, reason.ReplyCode);
        Assert.Equal($"NOT_FOUND - no queue '{queue}' in vhost '/'", reason.ReplyText);
        Assert.Equal(50, reason.ClassId);
        Assert.Equal(10, reason.MethodId);
        Assert.True(connection.IsOpen);
        await using var next = await connection.CreateChannelAsync();
        Assert.True(next.IsOpen);
    }

    [Fact]
    public async Task Redeclaring_with_other_properties_is_406_inequivalent_arg()
    {
        await using var connection = await Broker.ConnectAsync();
        string queue = Unique("q"), exchange = Unique("x");
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false));
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal($"PRECONDITION_FAILED - inequivalent arg 'durable' for queue '{queue}' in vhost '/': received 'true' but current is 'false'", reason.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct);
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout));
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal($"PRECONDITION_FAILED - inequivalent arg 'type' for exchange '{exchange}' in vhost '/': received 'fanout' but current is 'direct'", reason.ReplyText);
        }

        await using (var cleanup = await connection.CreateChannelAsync())
        {
            await cleanup.QueueDeleteAsync(queue);
            await cleanup.ExchangeDeleteAsync(exchange);
        }
    }

    [Fact]
    public async Task Reserved_exchange_names_are_403()
    {
        await using var connection = await Broker.ConnectAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.ExchangeDeclareAsync("amq.compat-reserved", ExchangeType.Direct));
            Assert.Equal(403, reason.ReplyCode);
            Assert.Equal("ACCESS_REFUSED - exchange name 'amq.compat-reserved' contains reserved prefix 'amq.*'", reason.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.ExchangeDeleteAsync("amq.direct"));
            Assert.Equal(403, reason.ReplyCode);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.ExchangeDeclarePassiveAsync("amq.topic");   // passive lookups of amq.* are fine
        }
    }

    [Fact]
    public async Task Binding_to_a_missing_exchange_is_404()
    {
        await using var connection = await Broker.ConnectAsync();
        string queue = Unique("q"), exchange = Unique("missing");
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.QueueBindAsync(queue, exchange, "k"));
            Assert.Equal(404, reason.ReplyCode);
            Assert.Equal($"NOT_FOUND - no exchange '{exchange}' in vhost '/'", reason.ReplyText);
            Assert.Equal(50, reason.ClassId);
            Assert.Equal(20, reason.MethodId);
        }

        await using var cleanup = await connection.CreateChannelAsync();
        await cleanup.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Another_connections_exclusive_queue_is_405_and_dies_with_its_owner()
    {
        string queue = Unique("exclusive");
        await using var owner = await Broker.ConnectAsync("compat-owner");
        await using var ownerChannel = await owner.CreateChannelAsync();
        await ownerChannel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: false);

        await using var other = await Broker.ConnectAsync("compat-other");
        await using (var channel = await other.CreateChannelAsync())
        {
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeclarePassiveAsync(queue));
            Assert.Equal(405, reason.ReplyCode);
            Assert.StartsWith($"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{queue}' in vhost '/'", reason.ReplyText);
        }

        await owner.CloseAsync();
        await using (var channel = await other.CreateChannelAsync())
        {
            // The owner is gone, so is its exclusive queue.
            ShutdownEventArgs reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeclarePassiveAsync(queue));
            Assert.Equal(404, reason.ReplyCode);
        }
    }

    [Fact]
    public async Task Exchange_to_exchange_bindings_declare_and_unbind()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string source = Unique("src"), destination = Unique("dst");
        await channel.ExchangeDeclareAsync(source, ExchangeType.Fanout);
        await channel.ExchangeDeclareAsync(destination, ExchangeType.Fanout);
        await channel.ExchangeBindAsync(destination, source, "");
        await channel.ExchangeUnbindAsync(destination, source, "");
        await channel.ExchangeDeleteAsync(source);
        await channel.ExchangeDeleteAsync(destination);
        Assert.True(channel.IsOpen);
    }
}
