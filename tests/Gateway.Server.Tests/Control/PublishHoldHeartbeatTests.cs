using Controller.Contracts;
using Gateway.Server.Control;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Control;

/// <summary>
/// A connection held by a publish limit reads nothing, the client's heartbeats included; the gateway must not
/// take that silence for a dead client (RabbitMQ pauses its heartbeat monitor while it blocks a reader).
/// On a fake clock, so minutes of heartbeat intervals pass in no time.
/// </summary>
public sealed class PublishHoldHeartbeatTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    [Fact]
    public async Task A_connection_held_for_minutes_is_not_closed_for_missed_heartbeats()
    {
        var factory = Gateway.ClientFactory();
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("held", durable: true, exclusive: false, autoDelete: false);
        var traffic = (TrafficControl)Gateway.Traffic;
        traffic.Apply(new ControlState("zero", [], [], [new PublishLimitShare("/", null, 0, 0)]));

        await channel.BasicPublishAsync("", "held", BitConverter.GetBytes(1));
        await GatewayFixture.WaitUntilAsync(() => traffic.BlockedConnections == 1);

        // Heartbeat 60 s: the gateway checks every 30 s and gives up after 120 s of silence.
        for (int tick = 0; tick < 10; tick++)
        {
            Gateway.Time!.Advance(TimeSpan.FromSeconds(30));
            await Task.Delay(20);
        }

        Assert.True(connection.IsOpen);
        traffic.Apply(ControlState.Empty);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Topology.FindQueue("/", "held")!.Value.Dispatch.Source.Ready == 1);
        Assert.True(connection.IsOpen);
        Assert.False(Gateway.Logs.Contains(1006));   // HeartbeatTimeout
    }
}
