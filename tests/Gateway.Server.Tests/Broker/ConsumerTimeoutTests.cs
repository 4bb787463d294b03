using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>The consumer timeout (RabbitMQ's consumer_timeout and x-consumer-timeout) on a fake clock.</summary>
public sealed class ConsumerTimeoutTests
{
    private const string TimeoutText =
        "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: {0} ms. This timeout value can be configured, see consumers doc guide to learn more";

    [Fact]
    public async Task A_delivery_unacknowledged_past_the_queues_timeout_closes_the_channel_with_406_and_is_requeued()
    {
        await using var gateway = await GatewayFixture.StartAsync(fakeTime: true);
        await using var connection = await gateway.ClientFactory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("slow", durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-consumer-timeout"] = 5000 });
        await channel.BasicPublishAsync("", "slow", Encoding.UTF8.GetBytes("held"));
        var consumer = new AsyncEventingBasicConsumer(channel);
        int received = 0;
        consumer.ReceivedAsync += (_, _) => { Interlocked.Increment(ref received); return Task.CompletedTask; };   // never acks
        await channel.BasicConsumeAsync("slow", autoAck: false, consumer);
        await GatewayFixture.WaitUntilAsync(() => Volatile.Read(ref received) == 1);

        gateway.Time!.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(100);
        Assert.True(channel.IsOpen);   // not yet

        gateway.Time.Advance(TimeSpan.FromSeconds(2));
        await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
        Assert.Equal(406, channel.CloseReason!.ReplyCode);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, TimeoutText, 5000), channel.CloseReason.ReplyText);
        Assert.Equal(0, channel.CloseReason.ClassId);

        await using var other = await connection.CreateChannelAsync();
        var again = await other.BasicGetAsync("slow", autoAck: true);
        Assert.True(again!.Redelivered);   // requeued by the close
        Assert.True(connection.IsOpen);   // a channel error, not a connection error
    }

    [Fact]
    public async Task The_server_default_applies_to_basic_get_and_an_ack_in_time_keeps_the_channel()
    {
        await using var gateway = await GatewayFixture.StartAsync(true, "--consumer-timeout", "2000");
        await using var connection = await gateway.ClientFactory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("polled", durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "polled", Encoding.UTF8.GetBytes("a"));
        await channel.BasicPublishAsync("", "polled", Encoding.UTF8.GetBytes("b"));

        var first = await channel.BasicGetAsync("polled", autoAck: false);
        gateway.Time!.Advance(TimeSpan.FromSeconds(1.5));
        await channel.BasicAckAsync(first!.DeliveryTag, multiple: false);
        await channel.QueueDeclarePassiveAsync("polled");   // a round trip: the ack is processed before the clock moves
        gateway.Time.Advance(TimeSpan.FromSeconds(3));
        await Task.Delay(100);
        Assert.True(channel.IsOpen);

        await channel.BasicGetAsync("polled", autoAck: false);
        gateway.Time.Advance(TimeSpan.FromSeconds(3));
        await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, TimeoutText, 2000), channel.CloseReason!.ReplyText);
    }
}
