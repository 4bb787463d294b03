using System.Text;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Connections;

public sealed class HandshakeTests : GatewayTest
{
    [Fact]
    public async Task RabbitMqClient_connects_with_RabbitMQ_tune_defaults()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync("handshake-test");

        Assert.True(connection.IsOpen);
        Assert.Equal(TimeSpan.FromSeconds(60), connection.Heartbeat);
        Assert.Equal((ushort)2047, connection.ChannelMax);
        Assert.Equal(131072u, connection.FrameMax);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Logs.Entries.Any(e => e.EventId == 1002 && e.Message.Contains("handshake-test")));
    }

    [Fact]
    public async Task Server_properties_advertise_all_nine_RabbitMQ_capabilities()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();

        var properties = connection.ServerProperties!;
        foreach (var key in new[] { "product", "version", "platform", "cluster_name", "copyright", "information" })
        {
            Assert.True(properties.ContainsKey(key), $"missing server property {key}");
        }

        var capabilities = Assert.IsAssignableFrom<IDictionary<string, object?>>(properties["capabilities"]);
        string[] expected =
        [
            "publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify", "connection.blocked",
            "consumer_priorities", "authentication_failure_close", "per_consumer_qos", "direct_reply_to",
        ];
        Assert.Equal(expected.Order(), capabilities.Keys.Order());
        Assert.All(capabilities.Values, v => Assert.Equal(true, v));
    }

    [Fact]
    public async Task Wrong_password_gives_AuthenticationFailureException()
    {
        var ex = await Assert.ThrowsAsync<BrokerUnreachableException>(() => Gateway.ClientFactory(password: "wrong").CreateConnectionAsync());

        Assert.IsType<AuthenticationFailureException>(ex.InnerException);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Logs.Contains(1004));
    }

    [Fact]
    public async Task Unknown_user_gives_AuthenticationFailureException()
    {
        var ex = await Assert.ThrowsAsync<BrokerUnreachableException>(() => Gateway.ClientFactory(user: "nobody").CreateConnectionAsync());

        Assert.IsType<AuthenticationFailureException>(ex.InnerException);
    }

    [Fact]
    public async Task Unknown_vhost_is_closed_with_530()
    {
        var reason = await GatewayFixture.OpenAndGetCloseReasonAsync(Gateway.ClientFactory(vhost: "no-such-vhost"));

        Assert.NotNull(reason);
        Assert.Equal(530, reason!.ReplyCode);
        Assert.Equal("NOT_ALLOWED - vhost no-such-vhost not found", reason.ReplyText);
        Assert.Equal((ushort)10, reason.ClassId);
        Assert.Equal((ushort)40, reason.MethodId);
    }

    [Fact]
    public async Task Client_without_authentication_failure_close_is_simply_disconnected()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendProtocolHeaderAsync();
        await client.ExpectMethodAsync<ConnectionStart>(0);
        var properties = ScriptedAmqpClient.ClientProperties(authenticationFailureClose: false);
        await client.SendMethodAsync(0, new ConnectionStartOk(properties, "PLAIN", ScriptedAmqpClient.PlainResponse("guest", "bad"), "en_US"));

        // Pre-0-9-1-extension behaviour: no close frame, just EOF.
        var frame = await client.ReadFrameAsync();
        Assert.Null(frame);
    }

    [Fact]
    public async Task Failed_login_with_capability_gets_403_connection_close_then_eof()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendProtocolHeaderAsync();
        await client.ExpectMethodAsync<ConnectionStart>(0);
        await client.SendMethodAsync(0, new ConnectionStartOk(ScriptedAmqpClient.ClientProperties(), "PLAIN", ScriptedAmqpClient.PlainResponse("guest", "bad"), "en_US"));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.AccessRefused, sendCloseOk: false);
        Assert.StartsWith("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN", close.ReplyText, StringComparison.Ordinal);
        Assert.Equal((ushort)0, close.ClassId);
        Assert.Equal((ushort)0, close.MethodId);
        Assert.True(await client.WaitForServerCloseAsync());
    }

    [Fact]
    public async Task Start_offers_PLAIN_and_AMQPLAIN_with_version_0_9()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendProtocolHeaderAsync();

        var start = await client.ExpectMethodAsync<ConnectionStart>(0);

        Assert.Equal(0, start.VersionMajor);
        Assert.Equal(9, start.VersionMinor);
        Assert.Equal(["PLAIN", "AMQPLAIN"], start.Mechanisms.Split(' '));
        Assert.Equal("en_US", start.Locales);
    }

    [Fact]
    public async Task AMQPLAIN_login_is_accepted()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendProtocolHeaderAsync();
        await client.ExpectMethodAsync<ConnectionStart>(0);
        // AMQPLAIN's response is a field table body without its length prefix.
        var table = new FieldTable { { "LOGIN", "guest" }, { "PASSWORD", "guest" } };
        var response = FieldTableCodec.Encode(table)[4..];
        await client.SendMethodAsync(0, new ConnectionStartOk(ScriptedAmqpClient.ClientProperties(), "AMQPLAIN", response, "en_US"));

        var tune = await client.ExpectMethodAsync<ConnectionTune>(0);
        Assert.Equal(131072u, tune.FrameMax);
    }

    [Fact]
    public async Task Unknown_mechanism_is_refused_with_503()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendProtocolHeaderAsync();
        await client.ExpectMethodAsync<ConnectionStart>(0);
        await client.SendMethodAsync(0, new ConnectionStartOk(ScriptedAmqpClient.ClientProperties(), "SCRAM-SHA-1", Encoding.UTF8.GetBytes("x"), "en_US"));

        var close = await client.ExpectMethodAsync<ConnectionClose>(0);
        Assert.Equal((ushort)ReplyCode.CommandInvalid, close.ReplyCode);
    }

    [Fact]
    public async Task Pipelined_tune_ok_and_open_are_both_answered()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        var tune = await client.StartAsync();
        // amqplib writes tune-ok and open back to back in one write.
        var tuneOk = ScriptedAmqpClient.Encode(0, new ConnectionTuneOk(tune.ChannelMax, tune.FrameMax, 0));
        var open = ScriptedAmqpClient.Encode(0, new ConnectionOpen("/"));
        await client.SendAsync([.. tuneOk, .. open]);

        await client.ExpectMethodAsync<ConnectionOpenOk>(0);
    }

    [Theory]
    [InlineData(4096u)]
    [InlineData(131072u)]
    public async Task Tune_ok_frame_max_from_4096_up_to_the_server_value_is_accepted(uint frameMax)
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        var tune = await client.StartAsync();
        await client.SendMethodAsync(0, new ConnectionTuneOk(tune.ChannelMax, frameMax, 0));
        await client.SendMethodAsync(0, new ConnectionOpen("/"));

        await client.ExpectMethodAsync<ConnectionOpenOk>(0);
    }

    [Theory]
    [InlineData((ushort)2047, 1000u, "negotiated frame_max = 1000 is lower than the minimum allowed value (4096)")]
    [InlineData((ushort)2047, 200000u, "negotiated frame_max = 200000 is higher than the maximum allowed value (131072)")]
    [InlineData((ushort)2047, 0u, "negotiated frame_max = 0 is higher than the maximum allowed value (131072)")]
    [InlineData((ushort)0, 131072u, "negotiated channel_max = 0 is higher than the maximum allowed value (2047)")]
    [InlineData((ushort)4000, 131072u, "negotiated channel_max = 4000 is higher than the maximum allowed value (2047)")]
    public async Task Out_of_range_tune_ok_is_closed_with_530(ushort channelMax, uint frameMax, string explanation)
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.StartAsync();
        await client.SendMethodAsync(0, new ConnectionTuneOk(channelMax, frameMax, 0));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.NotAllowed, sendCloseOk: false);
        Assert.Equal("NOT_ALLOWED - " + explanation, close.ReplyText);
        Assert.Equal(AmqpClassId.Connection, close.ClassId);
        Assert.Equal(AmqpMethodId.ConnectionTune.MethodId(), close.MethodId);

        // The client can still answer: the server waits for close-ok, then closes.
        await client.SendMethodAsync(0, new ConnectionCloseOk());
        Assert.True(await client.WaitForServerCloseAsync());
    }

    [Fact]
    public async Task Client_initiated_close_gets_close_ok_then_eof()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.SendMethodAsync(0, new ConnectionClose(200, "bye", 0, 0));

        await client.ExpectMethodAsync<ConnectionCloseOk>(0);
        Assert.True(await client.WaitForServerCloseAsync());
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0);
    }

    [Fact]
    public async Task Old_0_9_protocol_header_is_accepted()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendAsync(AmqpConstants.ProtocolHeader09);

        var start = await client.ExpectMethodAsync<ConnectionStart>(0);
        Assert.Equal(9, start.VersionMinor);
    }
}
