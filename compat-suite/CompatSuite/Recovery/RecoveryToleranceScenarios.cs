using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static CompatSuite.Fixtures.Scenario;

namespace CompatSuite.Recovery;

/// <summary>
/// What a recovering client (RabbitMQ.Client's topology recovery, MassTransit's reconnect) does to a broker without
/// a restart: bursts of channels that open, redeclare everything with identical arguments and close again, and
/// consumers re-registered under the tags they had before.
/// </summary>
public sealed class RecoveryToleranceScenarios
{
    private static readonly Dictionary<string, object?> QueueArguments = new() { ["x-custom-flag"] = "compat" };

    [Fact]
    public async Task A_burst_of_channels_redeclaring_identical_topology_changes_nothing()
    {
        await using var connection = await Broker.ConnectAsync();
        string exchange = Unique("burst-x"), queue = Unique("burst-q");
        await using var setup = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await setup.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, QueueArguments);
        await setup.QueueBindAsync(queue, exchange, "burst.#");
        await setup.BasicPublishAsync(exchange, "burst.before", mandatory: true, new BasicProperties(), "before"u8.ToArray());

        // 3 rounds of 20 channels at once, each redeclaring all of it exactly as before, then closing.
        for (int round = 0; round < 3; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                await using var channel = await connection.CreateChannelAsync();
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true, autoDelete: false);
                QueueDeclareOk declared = await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, QueueArguments);
                Assert.Equal(queue, declared.QueueName);
                await channel.QueueBindAsync(queue, exchange, "burst.#");
                await channel.CloseAsync();
            }));
        }

        Assert.True(connection.IsOpen);
        await setup.BasicPublishAsync(exchange, "burst.after", mandatory: true, new BasicProperties(), "after"u8.ToArray());
        QueueDeclareOk state = await setup.QueueDeclarePassiveAsync(queue);
        Assert.Equal(2u, state.MessageCount);   // the message before the burst is untouched, the binding still routes once
        Assert.Equal(0u, state.ConsumerCount);
        await setup.QueueDeleteAsync(queue);
        await setup.ExchangeDeleteAsync(exchange);
    }

    /// <summary>
    /// Consumer tags are scoped to their channel: the same tag may be in use on two channels at once, and a tag is
    /// free again once its channel is closed. Topology recovery relies on both when it re-registers consumers.
    /// </summary>
    [Fact]
    public async Task A_consumer_tag_can_be_reused_on_new_channels()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var setup = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Unique("tags");
        await setup.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        const string tag = "compat-recovered-consumer";

        await using (var first = await connection.CreateChannelAsync())
        {
            await using var second = await connection.CreateChannelAsync();
            Assert.Equal(tag, await first.BasicConsumeAsync(queue, autoAck: false, tag, new AsyncEventingBasicConsumer(first)));
            Assert.Equal(tag, await second.BasicConsumeAsync(queue, autoAck: false, tag, new AsyncEventingBasicConsumer(second)));
            Assert.Equal(2u, (await setup.QueueDeclarePassiveAsync(queue)).ConsumerCount);
            await second.CloseAsync();
            await first.CloseAsync();
        }

        Assert.Equal(0u, (await setup.QueueDeclarePassiveAsync(queue)).ConsumerCount);
        await using var reopened = await connection.CreateChannelAsync();
        var (consumer, deliveries) = RecordingConsumer(reopened);
        Assert.Equal(tag, await reopened.BasicConsumeAsync(queue, autoAck: true, tag, consumer));
        await setup.BasicPublishAsync("", queue, mandatory: true, new BasicProperties(), Encoding.UTF8.GetBytes("to the reused tag"));
        await WaitUntilAsync(() => deliveries.Count == 1, "a delivery to the reused tag");
        Assert.Equal(tag, deliveries.Snapshot()[0].ConsumerTag);
        await setup.QueueDeleteAsync(queue);
    }
}
