using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// x-max-length-bytes: the body bytes of ready messages, with drop-head and reject-publish as RabbitMQ 3.10
/// applies them (checked against it; compat-suite runs the same scenarios on both brokers).
/// </summary>
public sealed class MaxLengthBytesTests : GatewayTest
{
    private static Dictionary<string, object?> Arguments(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    private static async Task<IChannel> ConfirmingChannelAsync(IConnection connection) =>
        await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    private static async Task<List<string>> DrainAsync(IChannel channel, string queue)
    {
        var bodies = new List<string>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } got)
        {
            bodies.Add(Encoding.UTF8.GetString(got.Body.ToArray()));
        }

        return bodies;
    }

    [Fact]
    public async Task Drop_head_keeps_the_newest_bodies_within_the_byte_limit_and_a_body_over_it_leaves_at_once()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("bytes", durable: false, exclusive: false, autoDelete: false, Arguments(("x-max-length-bytes", 10)));
        for (int i = 0; i < 4; i++)
        {
            await channel.BasicPublishAsync("", "bytes", Encoding.UTF8.GetBytes($"abc{i}"));
        }

        Assert.Equal(["abc2", "abc3"], await DrainAsync(channel, "bytes"));   // 4 + 4 bytes fit, a third would make 12

        await channel.BasicPublishAsync("", "bytes", Encoding.UTF8.GetBytes("abc4"));
        await channel.BasicPublishAsync("", "bytes", Encoding.UTF8.GetBytes("0123456789AB"));   // 12 bytes alone exceed 10
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync("bytes")).MessageCount);
    }

    [Fact]
    public async Task Reject_publish_nacks_a_body_that_would_take_the_queue_past_its_byte_limit()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync("strict-bytes", durable: false, exclusive: false, autoDelete: false,
            Arguments(("x-max-length-bytes", 10), ("x-overflow", "reject-publish")));
        await channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("abc0"));
        await channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("abc1"));
        var nack = await Assert.ThrowsAsync<PublishException>(() => channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("abc2")).AsTask());
        Assert.False(nack.IsReturn);
        await channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("ab"));   // 8 + 2 = 10 still fits

        // Taking one frees its bytes; giving it back (requeue) counts them again.
        var taken = await channel.BasicGetAsync("strict-bytes", autoAck: false);
        await channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("abc3"));
        await channel.BasicNackAsync(taken!.DeliveryTag, multiple: false, requeue: true);
        await GatewayFixture.WaitUntilAsync(
            () => channel.QueueDeclarePassiveAsync("strict-bytes").GetAwaiter().GetResult().MessageCount == 4, because: "the requeue is back");
        await Assert.ThrowsAsync<PublishException>(() => channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("z")).AsTask());

        // A purge empties the count too.
        await channel.QueuePurgeAsync("strict-bytes");
        await channel.BasicPublishAsync("", "strict-bytes", Encoding.UTF8.GetBytes("0123456789"));
        Assert.Equal(["0123456789"], await DrainAsync(channel, "strict-bytes"));
    }

    [Fact]
    public async Task The_byte_count_is_rebuilt_from_the_log_after_a_restart()
    {
        string dataDir = Directory.CreateTempSubdirectory("gateway-bytes-").FullName;
        try
        {
            await using (var first = await GatewayFixture.StartOnDataDirAsync(dataDir))
            {
                await using var connection = await first.ClientFactory().CreateConnectionAsync();
                await using var channel = await ConfirmingChannelAsync(connection);
                await channel.QueueDeclareAsync("kept", durable: true, exclusive: false, autoDelete: false,
                    Arguments(("x-max-length-bytes", 12), ("x-overflow", "reject-publish")));
                foreach (string body in new[] { "abc0", "abc1", "abc2" })
                {
                    await channel.BasicPublishAsync("", "kept", true, new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, Encoding.UTF8.GetBytes(body));
                }

                var first3 = await channel.BasicGetAsync("kept", autoAck: true);   // settled: 8 bytes stay ready
                Assert.Equal("abc0", Encoding.UTF8.GetString(first3!.Body.ToArray()));
            }

            await using var second = await GatewayFixture.StartOnDataDirAsync(dataDir);
            await using var connection2 = await second.ClientFactory().CreateConnectionAsync();
            await using var channel2 = await ConfirmingChannelAsync(connection2);
            await channel2.BasicPublishAsync("", "kept", Encoding.UTF8.GetBytes("ab"));   // 8 + 2 fits
            await Assert.ThrowsAsync<PublishException>(() => channel2.BasicPublishAsync("", "kept", Encoding.UTF8.GetBytes("xyz")).AsTask());   // 13
            Assert.Equal(["abc1", "abc2", "ab"], await DrainAsync(channel2, "kept"));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
