using Gateway.Protocol.Methods.Access;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Channels;

public sealed class ChannelTests : GatewayTest
{
    [Fact]
    public async Task Many_channels_open_and_close_on_one_connection()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var channels = new List<IChannel>();
        for (var i = 0; i < 200; i++)
        {
            channels.Add(await connection.CreateChannelAsync());
        }

        Assert.All(channels, c => Assert.True(c.IsOpen));
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenChannels == 200);
        foreach (var channel in channels)
        {
            await channel.CloseAsync();
        }

        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenChannels == 0);
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Channel_numbers_can_be_reused_after_close_ok()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        for (var round = 0; round < 3; round++)
        {
            await client.OpenChannelAsync(1);
            await client.SendMethodAsync(1, new ChannelClose(200, "done", 0, 0));
            await client.ExpectMethodAsync<ChannelCloseOk>(1);
        }
    }

    [Fact]
    public async Task Exceeding_negotiated_channel_max_closes_the_connection_with_530()
    {
        var factory = Gateway.ClientFactory();
        factory.RequestedChannelMax = 3;
        await using var connection = await factory.CreateConnectionAsync();
        Assert.Equal((ushort)3, connection.ChannelMax);
        for (var i = 0; i < 3; i++)
        {
            await connection.CreateChannelAsync();
        }

        // RabbitMQ.Client itself refuses a 4th channel number, so go below it with a scripted peer.
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        var tune = await client.StartAsync();
        await client.SendMethodAsync(0, new ConnectionTuneOk(2, tune.FrameMax, 0));
        await client.SendMethodAsync(0, new ConnectionOpen("/"));
        await client.ExpectMethodAsync<ConnectionOpenOk>(0);
        await client.OpenChannelAsync(1);
        await client.OpenChannelAsync(2);
        await client.SendMethodAsync(3, new ChannelOpen());

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.NotAllowed);
        Assert.Equal("NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)", close.ReplyText);
        Assert.Equal((ushort)0, close.ClassId);
        Assert.Equal((ushort)0, close.MethodId);
    }

    [Fact]
    public async Task Method_on_an_unopened_channel_is_a_504_connection_error()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.SendMethodAsync(5, new QueueDeclare("q"));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.ChannelError);
        Assert.Equal("CHANNEL_ERROR - expected 'channel.open'", close.ReplyText);
        Assert.Equal((ushort)50, close.ClassId);
        Assert.Equal((ushort)10, close.MethodId);
        Assert.True(await client.WaitForServerCloseAsync());
    }

    [Fact]
    public async Task Second_channel_open_is_a_504_connection_error()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new ChannelOpen());

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.ChannelError);
        Assert.Equal("CHANNEL_ERROR - second 'channel.open' seen", close.ReplyText);
    }

    [Fact]
    public async Task Channel_flow_active_true_is_acknowledged()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new ChannelFlow(true));

        var ok = await client.ExpectMethodAsync<ChannelFlowOk>(1);
        Assert.True(ok.Active);
    }

    [Fact]
    public async Task Access_request_is_a_no_op_answered_with_ticket_1()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new AccessRequest("/data", false, true, true, true, true));

        var ok = await client.ExpectMethodAsync<AccessRequestOk>(1);
        Assert.Equal((ushort)1, ok.Ticket);
    }

    [Fact]
    public async Task After_a_connection_error_frames_are_discarded_until_close_ok()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new ChannelFlow(false));
        await client.ExpectConnectionCloseAsync(ReplyCode.NotImplemented, sendCloseOk: false);
        client.ReadTimeout = TimeSpan.FromSeconds(1);

        // Still connected, but nothing is answered: channel.open and flow go unanswered.
        await client.SendMethodAsync(2, new ChannelOpen());
        await client.SendMethodAsync(1, new ChannelFlow(true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadFrameAsync());

        await client.SendMethodAsync(0, new ConnectionCloseOk());
        Assert.True(await client.WaitForServerCloseAsync());
    }

    /// <summary>
    /// A client close crossing the server's close: RabbitMQ answers it with close-ok and still waits for the close-ok
    /// to its own close, after which the connection goes on (observed on RabbitMQ 3.10; compat-suite ChannelCloseScenarios).
    /// </summary>
    [Fact]
    public async Task Crossing_channel_closes_are_each_answered_and_the_connection_survives()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new QueueDeclare("no-such-queue", passive: true));
        await client.SendMethodAsync(1, new ChannelClose(200, "bye", 0, 0));
        var serverClose = await client.ExpectMethodAsync<ChannelClose>(1);
        Assert.Equal((ushort)ReplyCode.NotFound, serverClose.ReplyCode);
        await client.ExpectMethodAsync<ChannelCloseOk>(1);   // the answer to the client's close
        await client.SendMethodAsync(1, new ChannelCloseOk()); // the answer to the server's close

        await client.OpenChannelAsync(2);
        await client.OpenChannelAsync(1);
    }

    [Fact]
    public async Task Channel_flow_active_false_is_not_implemented_540()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new ChannelFlow(false));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.NotImplemented);
        Assert.Equal("NOT_IMPLEMENTED - active=false", close.ReplyText);
    }

    [Fact]
    public async Task Closing_a_channel_twice_from_RabbitMQ_client_is_harmless()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.CloseAsync();
        await channel.CloseAsync();

        Assert.True(connection.IsOpen);
        var another = await connection.CreateChannelAsync();
        Assert.True(another.IsOpen);
    }

    [Fact]
    public async Task Unimplemented_broker_method_is_reported_as_540_with_its_ids()
    {
        // basic.recover-async (deprecated, no reply) is the one client method the gateway does not implement
        // now that the tx class is (this test used tx.select before).
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new Gateway.Protocol.Methods.Basic.BasicRecoverAsync(requeue: true));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.NotImplemented);   // 540 is a hard error
        Assert.Equal((ushort)60, close.ClassId);
        Assert.Equal((ushort)100, close.MethodId);
    }

    [Fact]
    public async Task Server_to_client_method_sent_by_a_client_is_503()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new ChannelOpenOk());

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.CommandInvalid);
        Assert.Equal("COMMAND_INVALID - unimplemented method", close.ReplyText);
    }
}
