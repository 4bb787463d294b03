using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Queues;

/// <summary>x-expires (queue TTL) as RabbitMQ 3.10 applies it: an unused queue is deleted, one with a consumer is not.</summary>
public sealed class QueueExpiryScenarios
{
    private static async Task<bool> ExistsAsync(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await channel.QueueDeclarePassiveAsync(queue);
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    [Fact]
    public async Task An_unused_queue_expires_and_a_consumed_one_does_not()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string unused = Scenario.Unique("expires"), consumed = Scenario.Unique("expires-consumed");
        // Long enough that a loaded machine's round trips (declare → consume) stay well inside it.
        var arguments = new Dictionary<string, object?> { ["x-expires"] = 1000 };
        await channel.QueueDeclareAsync(consumed, durable: false, exclusive: false, autoDelete: false, arguments);
        string tag = await channel.BasicConsumeAsync(consumed, autoAck: true, new AsyncEventingBasicConsumer(channel));
        await channel.QueueDeclareAsync(unused, durable: false, exclusive: false, autoDelete: false, arguments);
        await channel.BasicPublishAsync("", unused, new byte[] { 1 });   // holding messages is not a use

        DateTime deadline = DateTime.UtcNow + Scenario.WaitTimeout;
        while (await ExistsAsync(connection, unused))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{unused} did not expire");
            await Task.Delay(1300);   // longer than the period: a passive declare renews the lease
        }

        Assert.True(await ExistsAsync(connection, consumed));
        await channel.BasicCancelAsync(tag);
        await Task.Delay(2500);
        await using var probe = await connection.CreateChannelAsync();
        var gone = await Assert.ThrowsAsync<OperationInterruptedException>(() => probe.QueueDeclarePassiveAsync(consumed));
        Assert.Equal(404, gone.ShutdownReason!.ReplyCode);
    }

    [Fact]
    public async Task The_longest_x_expires_is_accepted_and_the_queue_works()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("expires-max");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-expires"] = 4294967295L });   // 2^32-1 ms, the largest RabbitMQ accepts
        await channel.BasicPublishAsync("", queue, new byte[] { 1 });
        Assert.NotNull(await channel.BasicGetAsync(queue, autoAck: true));
        await channel.QueueDeleteAsync(queue);
    }
}
