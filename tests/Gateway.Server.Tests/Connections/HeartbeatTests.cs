using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Connection;
using TestSupport;

namespace Gateway.Server.Tests.Connections;

/// <summary>Heartbeats and handshake deadlines on a fake clock: no sleeps, exact instants.</summary>
public sealed class HeartbeatTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    [Fact]
    public async Task Server_sends_heartbeats_when_the_link_is_idle()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(heartbeat: 10);

        // Ticks every timeout/2 = 5 s; after 5 s of server silence a heartbeat is due.
        Gateway.Time!.Advance(TimeSpan.FromSeconds(5));
        var frame = await client.ReadFrameAsync();

        Assert.NotNull(frame);
        Assert.Equal(FrameType.Heartbeat, frame!.Type);
        Assert.Equal(0, frame.Channel);
        Assert.Empty(frame.Payload);
    }

    [Fact]
    public async Task Client_heartbeats_keep_the_connection_alive()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(heartbeat: 10);
        var heartbeat = ScriptedAmqpClient.RawFrame((byte)FrameType.Heartbeat, 0, []);

        for (var i = 0; i < 10; i++)
        {
            var received = Gateway.Metrics.BytesReceived;
            await client.SendAsync(heartbeat);
            await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.BytesReceived >= received + heartbeat.Length);
            Gateway.Time!.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(FrameType.Heartbeat, (await client.ReadFrameAsync())!.Type);
        }

        // 50 s of fake time have passed, far beyond 2 x 10 s, but the client was never silent.
        Assert.Equal(1, Gateway.Metrics.OpenConnections);
    }

    [Fact]
    public async Task Silent_client_is_dropped_after_two_missed_intervals_without_a_close_frame()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(heartbeat: 10);

        Gateway.Time!.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(1, Gateway.Metrics.OpenConnections);
        Gateway.Time.Advance(TimeSpan.FromSeconds(5));

        // Only heartbeats (no connection.close) and then EOF.
        ReceivedFrame? frame;
        while ((frame = await client.ReadFrameAsync()) is not null)
        {
            Assert.Equal(FrameType.Heartbeat, frame.Type);
        }

        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0);
        Assert.True(Gateway.Logs.Contains(1006));
    }

    [Fact]
    public async Task Heartbeat_zero_disables_both_directions()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(heartbeat: 0);

        Gateway.Time!.Advance(TimeSpan.FromMinutes(10));

        client.ReadTimeout = TimeSpan.FromMilliseconds(500);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadFrameAsync());
        Assert.Equal(1, Gateway.Metrics.OpenConnections);
    }

    [Fact]
    public async Task Client_that_never_sends_the_protocol_header_is_dropped_at_the_handshake_timeout()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 1);

        Gateway.Time!.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(1, Gateway.Metrics.OpenConnections);
        Gateway.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await client.ReadFrameAsync());
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0);
        Assert.True(Gateway.Logs.Contains(1007));
    }

    [Fact]
    public async Task Client_stuck_after_start_ok_is_dropped_at_the_handshake_timeout()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.StartAsync();

        Gateway.Time!.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(await client.ReadFrameAsync());
    }

    [Fact]
    public async Task Opened_connection_is_not_subject_to_the_handshake_timeout()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(heartbeat: 0);

        Gateway.Time!.Advance(TimeSpan.FromSeconds(30));

        await client.SendMethodAsync(0, new ConnectionClose(200, "bye", 0, 0));
        await client.ExpectMethodAsync<ConnectionCloseOk>(0);
    }
}
