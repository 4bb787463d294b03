using System.Diagnostics;
using CompatSuite.Fixtures;
using Xunit.Abstractions;

namespace CompatSuite.Connection;

/// <summary>
/// Heartbeats in both directions, over a plain socket so the frames themselves can be counted. A 1-second
/// heartbeat (the smallest tune-ok can ask for) keeps the scenarios short.
/// </summary>
public sealed class HeartbeatScenarios(ITestOutputHelper output)
{
    private static async Task<RawAmqpClient> OpenWithHeartbeatAsync(ushort seconds)
    {
        var client = await RawAmqpClient.ConnectAsync();
        await client.HandshakeAsync(heartbeat: seconds);
        await client.ExpectMethodAsync(10, 41);
        return client;
    }

    /// <summary>The server sends heartbeat frames on channel 0 while it has nothing else to say, and a client that
    /// keeps sending its own is never disconnected.</summary>
    [Fact]
    public async Task An_idle_connection_gets_heartbeats_and_stays_open_while_the_client_sends_its_own()
    {
        await using var client = await OpenWithHeartbeatAsync(1);
        using var stopSending = new CancellationTokenSource();
        Task sending = Task.Run(async () =>
        {
            while (!stopSending.IsCancellationRequested)
            {
                await client.SendFrameAsync(RawAmqpClient.FrameHeartbeat, 0, []);
                await Task.Delay(400, CancellationToken.None);
            }
        });

        var heartbeats = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            RawFrame? frame = await client.ReadFrameAsync(TimeSpan.FromSeconds(5));
            Assert.True(frame is not null, "the server closed the connection although the client kept sending heartbeats");
            Assert.Equal(RawAmqpClient.FrameHeartbeat, frame.Type);
            Assert.Equal(0, frame.Channel);
            Assert.Empty(frame.Payload);
            heartbeats++;
        }

        await stopSending.CancelAsync();
        await sending;
        output.WriteLine($"{heartbeats} heartbeats in 5 s");
        // RabbitMQ 3.10 sends one about every half interval (observed: 11 in 5 s); at least one per interval, not a flood.
        Assert.InRange(heartbeats, 3, 25);

        // Still usable after all that.
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
    }

    /// <summary>A client that goes silent is given up on after missing heartbeats: RabbitMQ closes the socket
    /// (after about two intervals) without a connection.close.</summary>
    [Fact]
    public async Task A_silent_client_is_disconnected_after_missed_heartbeats()
    {
        await using var client = await OpenWithHeartbeatAsync(1);
        var watch = Stopwatch.StartNew();
        RawFrame? frame;
        do
        {
            frame = await client.ReadFrameAsync(TimeSpan.FromSeconds(15));
            Assert.True(frame is null || frame.Type == RawAmqpClient.FrameHeartbeat, $"unexpected {frame}");
        }
        while (frame is not null);

        output.WriteLine($"closed after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
    }
}
