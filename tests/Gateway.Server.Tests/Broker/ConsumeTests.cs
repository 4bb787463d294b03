using System.Collections.Concurrent;
using System.Text;
using Gateway.Protocol.Methods.Basic;
using QueueDeclare = Gateway.Protocol.Methods.Queue.QueueDeclare;
using Gateway.Protocol.Spec;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>Consuming from the log through the dispatcher: durability across restarts, qos, exclusive consumers, and refusals.</summary>
public sealed class ConsumeTests : GatewayTest
{
    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Confirmed_messages_survive_a_restart_and_unacked_ones_return_flagged_redelivered()
    {
        string dataDir = Directory.CreateTempSubdirectory("gateway-consume-").FullName;
        try
        {
            await using (var first = await GatewayFixture.StartOnDataDirAsync(dataDir))
            {
                await using var connection = await first.ClientFactory().CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync(Confirms);
                await channel.QueueDeclareAsync("durable-q", durable: true, exclusive: false, autoDelete: false);
                for (int i = 0; i < 3; i++)
                {
                    await channel.BasicPublishAsync("", "durable-q", mandatory: true, new BasicProperties { MessageId = $"m{i}" }, Encoding.UTF8.GetBytes($"b{i}"));
                }

                BasicGetResult acked = (await channel.BasicGetAsync("durable-q", autoAck: false))!;
                await channel.BasicAckAsync(acked.DeliveryTag, multiple: false);
                Assert.NotNull(await channel.BasicGetAsync("durable-q", autoAck: false));   // in flight when the gateway stops
            }

            await using var second = await GatewayFixture.StartOnDataDirAsync(dataDir);
            await using var connection2 = await second.ClientFactory().CreateConnectionAsync();
            await using var channel2 = await connection2.CreateChannelAsync();
            Assert.Equal(2u, (await channel2.QueueDeclarePassiveAsync("durable-q")).MessageCount);
            BasicGetResult again = (await channel2.BasicGetAsync("durable-q", autoAck: true))!;
            Assert.Equal("m1", again.BasicProperties.MessageId);
            Assert.True(again.Redelivered);
            BasicGetResult last = (await channel2.BasicGetAsync("durable-q", autoAck: true))!;
            Assert.Equal("m2", last.BasicProperties.MessageId);
            Assert.False(last.Redelivered);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Global_qos_limits_the_whole_channel_across_its_consumers()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        foreach (string q in new[] { "g1", "g2" })
        {
            await channel.QueueDeclareAsync(q, durable: false, exclusive: false, autoDelete: false);
            for (int i = 0; i < 5; i++)
            {
                await channel.BasicPublishAsync("", q, new byte[] { (byte)i });
            }
        }

        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 3, global: true);
        var tags = new ConcurrentBag<ulong>();
        foreach (string q in new[] { "g1", "g2" })
        {
            var consumer = new AsyncEventingBasicConsumer(consuming);
            consumer.ReceivedAsync += (_, args) =>
            {
                tags.Add(args.DeliveryTag);
                return Task.CompletedTask;
            };
            await consuming.BasicConsumeAsync(q, autoAck: false, consumer);
        }

        await GatewayFixture.WaitUntilAsync(() => tags.Count == 3);
        await Task.Delay(200);
        Assert.Equal(3, tags.Count);   // three for the channel, not three per consumer
        await consuming.BasicAckAsync(tags.Max(), multiple: true);
        await GatewayFixture.WaitUntilAsync(() => tags.Count == 6);
    }

    [Fact]
    public async Task An_exclusive_consumer_locks_out_others_with_403_and_a_reused_tag_is_530()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("solo", durable: false, exclusive: false, autoDelete: false);
            await channel.BasicConsumeAsync("solo", autoAck: true, "only", noLocal: false, exclusive: true, arguments: null, new AsyncEventingBasicConsumer(channel));
            await using var other = await connection.CreateChannelAsync();
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() =>
                other.BasicConsumeAsync("solo", autoAck: true, new AsyncEventingBasicConsumer(other)));
            Assert.Equal(403, error.ShutdownReason!.ReplyCode);
            Assert.Equal("ACCESS_REFUSED - queue 'solo' in vhost '/' in exclusive use", error.ShutdownReason.ReplyText);

            await channel.BasicCancelAsync("only");
            await using var third = await connection.CreateChannelAsync();
            await third.BasicConsumeAsync("solo", autoAck: true, new AsyncEventingBasicConsumer(third));   // free again
        }

        await using var fresh = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var ch = await fresh.CreateChannelAsync();
        await ch.BasicConsumeAsync("solo", autoAck: true, "dup", noLocal: false, exclusive: false, arguments: null, new AsyncEventingBasicConsumer(ch));
        var reuse = await Assert.ThrowsAnyAsync<Exception>(() =>
            ch.BasicConsumeAsync("solo", autoAck: true, "dup", noLocal: false, exclusive: false, arguments: null, new AsyncEventingBasicConsumer(ch)));
        await GatewayFixture.WaitUntilAsync(() => !fresh.IsOpen);
        Assert.Equal(530, fresh.CloseReason!.ReplyCode);
        Assert.Equal("NOT_ALLOWED - attempt to reuse consumer tag 'dup'", fresh.CloseReason.ReplyText);
        Assert.NotNull(reuse);
    }

    [Fact]
    public async Task Recover_requeues_unacked_messages_and_without_requeue_is_540_as_on_RabbitMQ()
    {
        // RabbitMQ.Client 7 no longer offers basic.recover, so a raw client sends it.
        await using var raw = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await raw.HandshakeAsync();
        await raw.OpenChannelAsync(1);
        await raw.SendMethodAsync(1, new QueueDeclare("recovering"));
        await raw.ExpectMethodAsync<global::Gateway.Protocol.Methods.Queue.QueueDeclareOk>(1);
        await raw.PublishAsync(1, new BasicPublish("", "recovering"), new byte[] { 1 });
        await raw.SendMethodAsync(1, new BasicGet("recovering"));
        await raw.ExpectMethodAsync<BasicGetOk>(1);
        Assert.NotNull(await raw.ReadFrameAsync());   // content header
        Assert.NotNull(await raw.ReadFrameAsync());   // body
        await raw.SendMethodAsync(1, new BasicRecover(requeue: true));
        await raw.ExpectMethodAsync<BasicRecoverOk>(1);
        await raw.SendMethodAsync(1, new QueueDeclare("recovering", passive: true));
        Assert.Equal(1u, (await raw.ExpectMethodAsync<global::Gateway.Protocol.Methods.Queue.QueueDeclareOk>(1)).MessageCount);

        await raw.SendMethodAsync(1, new BasicRecover(requeue: false));
        var close = await raw.ExpectConnectionCloseAsync(ReplyCode.NotImplemented);
        Assert.Equal("NOT_IMPLEMENTED - requeue=false", close.ReplyText);
    }
}
