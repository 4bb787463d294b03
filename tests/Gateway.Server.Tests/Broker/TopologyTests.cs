using Gateway.Log;
using MetaService.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Exchange and queue methods on the gateway: permission refusals, counts read from the queue's log
/// topic, if-empty, exclusive queues across a restart. (The behaviours shared with RabbitMQ are
/// pinned against both brokers in compat-suite/CompatSuite/Topology.)
/// </summary>
public sealed class TopologyTests : GatewayTest
{
    private async Task AppendToQueueAsync(string queue, int count)
    {
        QueueRecord record = (await Gateway.Metadata.GetQueueAsync("/", queue))!;
        for (int i = 0; i < count; i++)
        {
            await Gateway.Log.AppendAsync(new LogMessage(default, new byte[] { (byte)i }, 0, [record.Topic]));
        }
    }

    [Fact]
    public async Task Every_queue_gets_its_own_log_topic_and_counts_come_from_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("counted", durable: true, exclusive: false, autoDelete: false);
        QueueRecord record = (await Gateway.Metadata.GetQueueAsync("/", "counted"))!;
        Assert.True(Gateway.Log.TopicExists(record.Topic));

        await AppendToQueueAsync("counted", 5);
        Assert.Equal(5u, (await channel.QueueDeclarePassiveAsync("counted")).MessageCount);
        Assert.Equal(5u, await channel.QueuePurgeAsync("counted"));
        Assert.Equal(0u, (await channel.QueueDeclareAsync("counted", durable: true, exclusive: false, autoDelete: false)).MessageCount);

        await AppendToQueueAsync("counted", 2);
        Assert.Equal(2u, await channel.QueueDeleteAsync("counted"));
        Assert.False(Gateway.Log.TopicExists(record.Topic));
    }

    [Fact]
    public async Task Delete_if_empty_refuses_a_queue_holding_messages()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("full", durable: false, exclusive: false, autoDelete: false);
            await AppendToQueueAsync("full", 1);
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeleteAsync("full", ifUnused: false, ifEmpty: true));
            Assert.Equal(406, error.ShutdownReason!.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - queue 'full' in vhost '/' not empty", error.ShutdownReason.ReplyText);
        }

        await using var next = await connection.CreateChannelAsync();
        Assert.Equal(1u, (await next.QueueDeclarePassiveAsync("full")).MessageCount);
    }

    [Fact]
    public async Task Operations_outside_the_users_permissions_are_403_on_the_channel()
    {
        await Gateway.Metadata.PutUserAsync(new UserRecord("limited", RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));
        // configure only app.*, write only app.*, read everything
        await Gateway.Metadata.SetPermissionAsync(new PermissionRecord("limited", "/", "^app\\.", "^app\\.", ".*"));
        await using var connection = await Gateway.ClientFactory("limited", "pw").CreateConnectionAsync();

        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("app.allowed", durable: false, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync("app.allowed", "amq.topic", "#");   // write on app.allowed, read on amq.topic
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync("other", durable: false, exclusive: false, autoDelete: false));
            Assert.Equal(403, error.ShutdownReason!.ReplyCode);
            Assert.Equal("ACCESS_REFUSED - access to queue 'other' in vhost '/' refused for user 'limited'", error.ShutdownReason.ReplyText);
            Assert.Equal(50, error.ShutdownReason.ClassId);
            Assert.Equal(10, error.ShutdownReason.MethodId);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.ExchangeDeclareAsync("other.x", ExchangeType.Direct));
            Assert.Equal("ACCESS_REFUSED - access to exchange 'other.x' in vhost '/' refused for user 'limited'", error.ShutdownReason!.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            // A passive declare needs no permission, as in RabbitMQ.
            await channel.ExchangeDeclarePassiveAsync("amq.direct");
            Assert.True(connection.IsOpen);
        }
    }

    [Fact]
    public async Task Exclusive_and_transient_queues_and_transient_exchanges_are_gone_after_a_restart()
    {
        string dataDir = Directory.CreateTempSubdirectory("gateway-restart-").FullName;
        try
        {
            string topic;
            await using (var first = await GatewayFixture.StartOnDataDirAsync(dataDir))
            {
                var connection = await first.ClientFactory().CreateConnectionAsync();
                var channel = await connection.CreateChannelAsync();
                await channel.QueueDeclareAsync("mine", durable: true, exclusive: true, autoDelete: false);
                await channel.QueueDeclareAsync("shared", durable: true, exclusive: false, autoDelete: false);
                await channel.QueueDeclareAsync("transient", durable: false, exclusive: false, autoDelete: false);
                await channel.ExchangeDeclareAsync("transient-x", ExchangeType.Fanout, durable: false);
                await channel.ExchangeDeclareAsync("durable-x", ExchangeType.Fanout, durable: true);
                await channel.QueueBindAsync("shared", "durable-x", "");
                topic = (await first.Metadata.GetQueueAsync("/", "mine"))!.Topic;

                // The gateway stops with the connection still open (a crash would leave the same state).
            }

            await using var second = await GatewayFixture.StartOnDataDirAsync(dataDir);
            Assert.Null(await second.Metadata.GetQueueAsync("/", "mine"));
            Assert.False(second.Log.TopicExists(topic));
            Assert.NotNull(await second.Metadata.GetQueueAsync("/", "shared"));
            Assert.Null(await second.Metadata.GetQueueAsync("/", "transient"));
            Assert.Null(await second.Metadata.GetExchangeAsync("/", "transient-x"));
            Assert.NotNull(await second.Metadata.GetExchangeAsync("/", "durable-x"));
            await using var connection2 = await second.ClientFactory().CreateConnectionAsync();
            await using var channel2 = await connection2.CreateChannelAsync();
            await channel2.QueueDeclareAsync("mine", durable: true, exclusive: true, autoDelete: false);   // free to take again
            await channel2.BasicPublishAsync("durable-x", "", new byte[] { 1 });   // the durable binding still routes
            Assert.Equal(1u, (await channel2.QueueDeclarePassiveAsync("shared")).MessageCount);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
