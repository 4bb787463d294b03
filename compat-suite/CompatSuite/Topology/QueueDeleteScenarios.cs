using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static CompatSuite.Fixtures.Scenario;

namespace CompatSuite.Topology;

/// <summary>queue.delete's if-empty and if-unused guards, and the counts declare-ok and delete-ok report.</summary>
public sealed class QueueDeleteScenarios
{
    [Fact]
    public async Task Delete_if_empty_refuses_a_queue_with_messages_with_406()
    {
        await using var connection = await Broker.ConnectAsync();
        string queue = Unique("ifempty");
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
            await channel.BasicPublishAsync("", queue, mandatory: true, new BasicProperties(), "m"u8.ToArray());
            var reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: true));
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal($"PRECONDITION_FAILED - queue '{queue}' in vhost '/' not empty", reason.ReplyText);
            Assert.Equal(50, reason.ClassId);
            Assert.Equal(40, reason.MethodId);
        }

        await using var next = await connection.CreateChannelAsync();
        Assert.Equal(1u, await MessageCountAsync(next, queue));   // refused means untouched
        Assert.Equal(1u, await next.QueueDeleteAsync(queue));      // delete-ok counts the messages it dropped
    }

    [Fact]
    public async Task Delete_if_unused_refuses_a_queue_with_a_consumer_with_406()
    {
        await using var connection = await Broker.ConnectAsync();
        string queue = Unique("ifunused");
        await using var consuming = await connection.CreateChannelAsync();
        QueueDeclareOk declared = await consuming.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        Assert.Equal(0u, declared.ConsumerCount);
        string tag = await consuming.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(consuming));
        await using (var channel = await connection.CreateChannelAsync())
        {
            Assert.Equal(1u, (await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false)).ConsumerCount);
            var reason = await ExpectChannelClosedAsync(channel, () => channel.QueueDeleteAsync(queue, ifUnused: true, ifEmpty: false));
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal($"PRECONDITION_FAILED - queue '{queue}' in vhost '/' in use", reason.ReplyText);
        }

        await consuming.BasicCancelAsync(tag);
        Assert.Equal(0u, await consuming.QueueDeleteAsync(queue, ifUnused: true, ifEmpty: true));
    }
}
