using CompatSuite.Fixtures;

namespace CompatSuite.Channel;

/// <summary>
/// The close handshake from the server's side, over a plain socket: frames a client had already sent when the
/// server closed its channel must not be answered or turned into a connection error.
/// </summary>
public sealed class ChannelCloseScenarios
{
    /// <summary>
    /// 0-9-1 (channel.close): after sending close the peer "must discard all methods it receives on the channel"
    /// until close-ok. RabbitMQ does: the basic.qos and queue.declare below get no answer, the connection survives, and
    /// the channel number can be opened again after close-ok.
    /// </summary>
    [Fact]
    public async Task Methods_sent_after_the_server_closed_a_channel_are_discarded_until_close_ok()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var _ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);

        string missing = Scenario.Unique("absent");
        // queue.declare passive of a missing queue: the server closes channel 1 with 404.
        await client.SendMethodAsync(1, 50, 10, new MethodArgs().Short(0).ShortStr(missing).Octet(1).EmptyTable());
        RawFrame close = await client.ExpectMethodAsync(20, 40);
        Assert.Equal(1, close.Channel);
        Assert.Equal(404, CloseReason.Parse(close).ReplyCode);

        // Before close-ok: a qos and a declare that would each get a reply on an open channel.
        await client.SendMethodAsync(1, 60, 10, new MethodArgs().Long(0).Short(10).Octet(0));
        await client.SendMethodAsync(1, 50, 10, new MethodArgs().Short(0).ShortStr(Scenario.Unique("ignored")).Octet(0b0000_1000).EmptyTable());
        await client.SendMethodAsync(1, 20, 41);   // close-ok

        // The next frame must be the open-ok for the reopened channel: nothing was answered in between.
        await client.OpenChannelAsync(1);
        RawFrame next = await client.ReadNonHeartbeatAsync();
        Assert.True(next.Is(20, 11) && next.Channel == 1, $"expected channel.open-ok on channel 1, got {next}");
    }

    /// <summary>Both sides close the same channel at once: each answers the other's close with close-ok (0-9-1 allows
    /// crossing closes).</summary>
    [Fact]
    public async Task Client_close_crossing_a_server_close_still_ends_in_close_ok()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var _ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);

        await client.SendMethodAsync(1, 50, 10, new MethodArgs().Short(0).ShortStr(Scenario.Unique("absent")).Octet(1).EmptyTable());
        // channel.close(200) from the client before reading the server's close.
        await client.SendMethodAsync(1, 20, 40, new MethodArgs().Short(200).ShortStr("bye").Short(0).Short(0));
        RawFrame serverClose = await client.ExpectMethodAsync(20, 40);
        Assert.Equal(404, CloseReason.Parse(serverClose).ReplyCode);
        await client.SendMethodAsync(1, 20, 41);
        await client.OpenChannelAsync(2);
        // RabbitMQ answers the client's close on the closing channel with close-ok (rabbit_channel in state
        // `closing`), then the open of channel 2 with open-ok; nothing else.
        RawFrame closeOk = await client.ReadNonHeartbeatAsync();
        Assert.True(closeOk.Is(20, 41) && closeOk.Channel == 1, $"expected channel.close-ok on channel 1, got {closeOk}");
        RawFrame next = await client.ReadNonHeartbeatAsync();
        Assert.True(next.Is(20, 11) && next.Channel == 2, $"expected channel.open-ok on channel 2, got {next}");
    }
}
