using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>x-expires on a fake clock: an unused queue goes after its period; declare, get and consumers keep it.</summary>
public sealed class QueueExpiryTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private static readonly Dictionary<string, object?> ExpiresInOneSecond = new() { ["x-expires"] = 1000 };

    private async Task<bool> ExistsAsync(IConnection connection, string queue)
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

    private async Task GoneAsync(IConnection connection, string queue) =>
        await GatewayFixture.WaitUntilAsync(() => !ExistsAsync(connection, queue).GetAwaiter().GetResult(), because: $"{queue} should have expired");

    [Fact]
    public async Task An_unused_queue_is_deleted_when_its_expiry_runs_out_and_not_before()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("temporary", durable: false, exclusive: false, autoDelete: false, ExpiresInOneSecond);
            await channel.BasicPublishAsync("", "temporary", new byte[] { 1 });   // messages are not a use
        }

        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(990));
        Assert.True(await ExistsAsync(connection, "temporary"));   // the passive declare renews it
        Gateway.Time.Advance(TimeSpan.FromMilliseconds(990));
        Assert.True(await ExistsAsync(connection, "temporary"));
        Gateway.Time.Advance(TimeSpan.FromMilliseconds(1001));
        await GoneAsync(connection, "temporary");
        Assert.Null(await Gateway.Metadata.GetQueueAsync("/", "temporary"));
    }

    [Fact]
    public async Task A_queue_with_a_consumer_does_not_expire_and_its_period_starts_when_the_last_consumer_leaves()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("consumed", durable: false, exclusive: false, autoDelete: false, ExpiresInOneSecond);
        string tag = await channel.BasicConsumeAsync("consumed", autoAck: true, new AsyncEventingBasicConsumer(channel));

        // consume-ok goes out just before the consumer is attached (deliveries may start at once): wait for it
        // before moving the clock, or the lease can look unused in between.
        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.FindQueue("/", "consumed")?.Dispatch.ConsumerCount == 1, because: "the consumer is attached");
        Gateway.Time!.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(100);
        Assert.NotNull(await Gateway.Metadata.GetQueueAsync("/", "consumed"));

        await channel.BasicCancelAsync(tag);   // cancel-ok comes after the consumer is gone
        Gateway.Time.Advance(TimeSpan.FromMilliseconds(900));
        await Task.Delay(100);
        Assert.NotNull(await Gateway.Metadata.GetQueueAsync("/", "consumed"));
        Gateway.Time.Advance(TimeSpan.FromMilliseconds(200));
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metadata.GetQueueAsync("/", "consumed").GetAwaiter().GetResult() is null);
    }

    [Fact]
    public async Task Basic_get_renews_the_lease()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("polled", durable: false, exclusive: false, autoDelete: false, ExpiresInOneSecond);
        for (int i = 0; i < 3; i++)
        {
            Gateway.Time!.Advance(TimeSpan.FromMilliseconds(800));
            Assert.Null(await channel.BasicGetAsync("polled", autoAck: true));
        }

        Assert.NotNull(await Gateway.Metadata.GetQueueAsync("/", "polled"));
        Gateway.Time!.Advance(TimeSpan.FromMilliseconds(1001));
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metadata.GetQueueAsync("/", "polled").GetAwaiter().GetResult() is null);
    }
}
