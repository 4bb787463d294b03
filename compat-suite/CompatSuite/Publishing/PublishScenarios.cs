using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Publishing;

/// <summary>Publishing with RabbitMQ.Client 7.x: routing by exchange type, confirms, mandatory returns, refusals.</summary>
public sealed class PublishScenarios
{
    private static string Unique(string prefix) => $"compat-{prefix}-{Guid.NewGuid():N}";

    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Confirmed_publishes_land_in_every_queue_their_bindings_select()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        string topic = Unique("topic"), eu = Unique("eu"), all = Unique("all"), none = Unique("none");
        await channel.ExchangeDeclareAsync(topic, ExchangeType.Topic, autoDelete: false);
        foreach ((string queue, string key) in new[] { (eu, "orders.eu.*"), (all, "orders.#"), (none, "invoices.#") })
        {
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync(queue, topic, key);
        }

        foreach (string key in new[] { "orders.eu.created", "orders.us.created", "orders.eu.paid", "orders" })
        {
            await channel.BasicPublishAsync(topic, key, mandatory: true, new BasicProperties(), Encoding.UTF8.GetBytes(key));
        }

        await channel.BasicPublishAsync("", eu, Encoding.UTF8.GetBytes("direct to the queue"));   // the default exchange
        Assert.Equal(3u, (await channel.QueueDeclarePassiveAsync(eu)).MessageCount);
        Assert.Equal(4u, (await channel.QueueDeclarePassiveAsync(all)).MessageCount);
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(none)).MessageCount);
        Assert.Equal(3u, await channel.QueuePurgeAsync(eu));
        foreach (string queue in new[] { eu, all, none })
        {
            await channel.QueueDeleteAsync(queue);
        }

        await channel.ExchangeDeleteAsync(topic);
    }

    [Fact]
    public async Task An_unroutable_mandatory_message_is_returned_312_NO_ROUTE()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var returned = new TaskCompletionSource<(ushort Code, string Text, string Exchange, string Key, string? MessageId, byte[] Body)>(
            TaskCreationOptions.RunContinuationsAsynchronously);
        channel.BasicReturnAsync += (_, args) =>
        {
            returned.TrySetResult((args.ReplyCode, args.ReplyText, args.Exchange, args.RoutingKey, args.BasicProperties.MessageId, args.Body.ToArray()));
            return Task.CompletedTask;
        };

        string key = Unique("nobody");
        var error = await Assert.ThrowsAsync<PublishException>(async () =>
            await channel.BasicPublishAsync("amq.direct", key, mandatory: true, new BasicProperties { MessageId = "m-1" }, new byte[] { 7, 8 }));
        Assert.True(error.IsReturn);
        var r = await returned.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((ushort)312, r.Code);
        Assert.Equal("NO_ROUTE", r.Text);
        Assert.Equal("amq.direct", r.Exchange);
        Assert.Equal(key, r.Key);
        Assert.Equal("m-1", r.MessageId);
        Assert.Equal(new byte[] { 7, 8 }, r.Body);
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Publishing_to_a_missing_exchange_closes_the_channel_with_404()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string exchange = Unique("missing");
        var closed = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, args) =>
        {
            closed.TrySetResult(args);
            return Task.CompletedTask;
        };

        await channel.BasicPublishAsync(exchange, "k", new byte[] { 1 });
        ShutdownEventArgs reason = await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(404, reason.ReplyCode);
        Assert.Equal($"NOT_FOUND - no exchange '{exchange}' in vhost '/'", reason.ReplyText);
        Assert.Equal(60, reason.ClassId);
        Assert.Equal(40, reason.MethodId);
        Assert.True(connection.IsOpen);
    }
}
