using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Queues;

/// <summary>
/// x-max-length-bytes as RabbitMQ 3.10 applies it: the limit is on the body bytes of ready messages;
/// drop-head drops from the head while the queue is over it (a body bigger than the limit leaves at once),
/// reject-publish nacks a body that would take the queue past it.
/// </summary>
public sealed class MaxLengthBytesScenarios
{
    private static async Task<List<string>> DrainAsync(IChannel channel, string queue)
    {
        var bodies = new List<string>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } got)
        {
            bodies.Add(Encoding.UTF8.GetString(got.Body.Span));
        }

        return bodies;
    }

    [Fact]
    public async Task Drop_head_keeps_the_newest_bodies_within_the_byte_limit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Scenario.Unique("max-bytes");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: true, new Dictionary<string, object?> { ["x-max-length-bytes"] = 10 });
        for (int i = 0; i < 4; i++)
        {
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes($"abc{i}"));
        }

        Assert.Equal(["abc2", "abc3"], await DrainAsync(channel, queue));
        await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("abc4"));
        await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("0123456789AB"));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(queue)).MessageCount);
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Reject_publish_nacks_a_body_that_would_pass_the_byte_limit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Scenario.Unique("max-bytes-reject");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-max-length-bytes"] = 10, ["x-overflow"] = "reject-publish" });
        try
        {
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("abc0"));
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("abc1"));
            var nack = await Assert.ThrowsAsync<PublishException>(() => channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("abc2")).AsTask());
            Assert.False(nack.IsReturn);
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes("ab"));   // exactly at the limit
            Assert.Equal(["abc0", "abc1", "ab"], await DrainAsync(channel, queue));
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
        }
    }

    [Theory]
    [InlineData("drop-head", new[] { true, true, true, true }, new[] { "ab", "abc0", "abc2" })]   // the next to deliver (priority 5) is dropped
    [InlineData("reject-publish", new[] { true, true, false, true }, new[] { "abc1", "ab", "abc0" })]
    public async Task A_priority_queue_counts_the_bytes_of_every_level(string overflow, bool[] confirmed, string[] delivered)
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string queue = Scenario.Unique("max-bytes-priority");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-max-length-bytes"] = 10, ["x-overflow"] = overflow, ["x-max-priority"] = 5 });
        try
        {
            var outcomes = new List<bool>();
            foreach (var (body, priority) in new[] { ("abc0", 0), ("abc1", 5), ("abc2", 0), ("ab", 3) })
            {
                try
                {
                    await channel.BasicPublishAsync("", queue, true, new BasicProperties { Priority = (byte)priority }, Encoding.UTF8.GetBytes(body));
                    outcomes.Add(true);
                }
                catch (PublishException)
                {
                    outcomes.Add(false);
                }
            }

            Assert.Equal(confirmed, outcomes);
            Assert.Equal(delivered, await DrainAsync(channel, queue));
        }
        finally
        {
            await channel.QueueDeleteAsync(queue);
        }
    }
}
