using System.Diagnostics;
using System.Text;
using CompatSuite.Fixtures;
using Xunit.Abstractions;

namespace CompatSuite.Connection;

/// <summary>
/// Protocol edge cases driven byte by byte over a plain socket. Each expectation is what RabbitMQ 3.10 was
/// observed to answer (compat-suite/README.md has the table); the gateway must answer the same.
/// </summary>
public sealed class RawProtocolScenarios(ITestOutputHelper output)
{
    private CloseReason Observed(CloseReason reason)
    {
        output.WriteLine($"observed {reason}");
        return reason;
    }

    private static async Task<RawAmqpClient> OpenWithChannelAsync(ushort channel = 1)
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await client.OpenChannelAsync(channel);
        await client.ExpectMethodAsync(20, 11);
        return client;
    }

    private static void AssertClose(CloseReason reason, ushort code, string textPrefix, ushort classId, ushort methodId)
    {
        Assert.Equal(code, reason.ReplyCode);
        Assert.StartsWith(textPrefix, reason.ReplyText, StringComparison.Ordinal);
        Assert.Equal(classId, reason.ClassId);
        Assert.Equal(methodId, reason.MethodId);
    }

    [Theory]
    [InlineData("AMQP\0\u0001\u0000\u0000")]
    [InlineData("AMQP\0\0\u0009\u0002")]
    [InlineData("GET / HT")]
    public async Task Wrong_protocol_header_gets_the_0_9_1_header_back_then_close(string header)
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.WriteAsync(Encoding.Latin1.GetBytes(header));
        Assert.Equal(RawAmqpClient.ProtocolHeader, await client.ReadBytesAsync(8));
        Assert.True(await client.IsClosedByPeerAsync(), "socket still open after the header reply");
    }

    [Fact]
    public async Task Tune_proposes_RabbitMQ_defaults()
    {
        var (client, tune) = await RawAmqpClient.OpenAsync();
        await using var _ = client;
        Assert.Equal(new TuneValues(2047, 131072, 60), tune);
    }

    [Fact]
    public async Task Connection_close_from_client_gets_close_ok()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var __ = client;
        await client.SendMethodAsync(0, 10, 50, new MethodArgs().Short(200).ShortStr("bye").Short(0).Short(0));
        await client.ExpectMethodAsync(10, 51);
    }

    [Fact]
    public async Task Bad_frame_end_byte_is_501()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var __ = client;
        var channelOpen = RawAmqpClient.EncodeMethod(20, 10, new MethodArgs().ShortStr(""));
        await client.SendFrameAsync(RawAmqpClient.FrameMethod, 1, channelOpen, frameEnd: 0x00);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 501, "FRAME_ERROR - ", 0, 0);
    }

    [Fact]
    public async Task Frame_payload_over_frame_max_is_501()
    {
        var (client, tune) = await RawAmqpClient.OpenAsync();
        await using var __ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
        await client.SendFrameAsync(RawAmqpClient.FrameBody, 1, new byte[tune.FrameMax + 1]);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 501, "FRAME_ERROR - ", 0, 0);
    }

    /// <summary>
    /// A stray body frame is refused for being out of sequence (505), not for its size, as long as its payload
    /// is at most frame_max: RabbitMQ allows the 8 bytes of frame overhead on top of frame_max.
    /// </summary>
    [Theory]
    [InlineData(8)]
    [InlineData(0)]
    public async Task Body_frame_with_payload_up_to_frame_max_is_not_a_size_error(int shortOfFrameMax)
    {
        var (client, tune) = await RawAmqpClient.OpenAsync();
        await using var __ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
        await client.SendFrameAsync(RawAmqpClient.FrameBody, 1, new byte[tune.FrameMax - shortOfFrameMax]);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 505, "UNEXPECTED_FRAME - ", 0, 0);
    }

    [Fact]
    public async Task Method_on_a_channel_never_opened_is_504()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var __ = client;
        // basic.qos(prefetch_size 0, prefetch_count 10, global false) on channel 5.
        await client.SendMethodAsync(5, 60, 10, new MethodArgs().Long(0).Short(10).Octet(0));
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 504, "CHANNEL_ERROR - expected 'channel.open'", 60, 10);
    }

    [Fact]
    public async Task Heartbeat_frame_on_a_channel_is_505()
    {
        await using var client = await OpenWithChannelAsync();
        await client.SendFrameAsync(RawAmqpClient.FrameHeartbeat, 1, []);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 505, "UNEXPECTED_FRAME - ", 0, 0);
    }

    [Fact]
    public async Task Content_header_without_publish_is_505()
    {
        await using var client = await OpenWithChannelAsync();
        var header = new MethodArgs().Short(60).Short(0).Long(0).Long(3).Short(0);
        await client.SendFrameAsync(RawAmqpClient.FrameHeader, 1, [.. header.Bytes]);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 505, "UNEXPECTED_FRAME - ", 0, 0);
    }

    [Fact]
    public async Task Content_body_without_publish_is_505()
    {
        await using var client = await OpenWithChannelAsync();
        await client.SendFrameAsync(RawAmqpClient.FrameBody, 1, "abc"u8);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 505, "UNEXPECTED_FRAME - ", 0, 0);
    }

    /// <summary>
    /// RabbitMQ 3.10 has no reply for an unknown method: the connection process crashes and the socket is
    /// dropped without a connection.close. A peer that sends connection.close 503 or 540 first is accepted too.
    /// </summary>
    [Theory]
    [InlineData(60, 999)]
    [InlineData(999, 10)]
    public async Task Unknown_method_ends_the_connection(ushort classId, ushort methodId)
    {
        await using var client = await OpenWithChannelAsync();
        await client.SendMethodAsync(1, classId, methodId);
        var frame = await client.ReadFrameAsync();
        output.WriteLine($"observed {frame?.ToString() ?? "socket closed, no frame"}");
        if (frame is not null)
        {
            Assert.True(frame.Is(10, 50), $"expected connection.close or a dropped socket, got {frame}");
            Assert.Contains(Observed(CloseReason.Parse(frame)).ReplyCode, new ushort[] { 503, 540 });
            await client.SendMethodAsync(0, 10, 51);
        }

        Assert.True(await client.IsClosedByPeerAsync(), "connection still open after an unknown method");
    }

    [Fact]
    public async Task Channel_open_on_an_open_channel_is_504()
    {
        await using var client = await OpenWithChannelAsync();
        await client.OpenChannelAsync(1);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10);
    }

    /// <summary>RabbitMQ limits how many channels are open, not the channel number itself.</summary>
    [Fact]
    public async Task Channel_number_above_channel_max_is_accepted_while_under_the_count()
    {
        var (client, _) = await RawAmqpClient.OpenAsync(channelMax: 10);
        await using var __ = client;
        await client.OpenChannelAsync(11);
        var openOk = await client.ExpectMethodAsync(20, 11);
        Assert.Equal(11, openOk.Channel);
    }

    [Fact]
    public async Task Opening_more_channels_than_channel_max_is_530()
    {
        var (client, _) = await RawAmqpClient.OpenAsync(channelMax: 10);
        await using var __ = client;
        for (ushort channel = 1; channel <= 10; channel++)
        {
            await client.OpenChannelAsync(channel);
            await client.ExpectMethodAsync(20, 11);
        }

        await client.OpenChannelAsync(11);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 530, "NOT_ALLOWED - number of channels opened (10)", 0, 0);
    }

    /// <summary>
    /// RabbitMQ 3.10 rejects frame_max below 4096 during tuning by waiting about 3 s and dropping the socket,
    /// without connection.close (it logs the reason). A peer that sends connection.close 530 instead is accepted too.
    /// </summary>
    [Fact]
    public async Task Tune_ok_frame_max_below_4096_is_refused()
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.HandshakeAsync(frameMax: 1000);
        var stopwatch = Stopwatch.StartNew();
        var frame = await client.ReadFrameAsync();
        output.WriteLine($"observed {frame?.ToString() ?? "socket closed, no frame"} after {stopwatch.ElapsedMilliseconds} ms");
        if (frame is not null)
        {
            Assert.True(frame.Is(10, 50), $"expected connection.close or a dropped socket, got {frame}");
            Assert.Equal(530, Observed(CloseReason.Parse(frame)).ReplyCode);
            await client.SendMethodAsync(0, 10, 51);
        }

        Assert.True(await client.IsClosedByPeerAsync(), "connection still open after tune-ok with frame_max 1000");
    }

    [Fact]
    public async Task Unknown_vhost_is_530()
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.HandshakeAsync(vhost: "compat-no-such-vhost");
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 530, "NOT_ALLOWED - vhost compat-no-such-vhost not found", 10, 40);
    }

    [Fact]
    public async Task Bad_password_with_authentication_failure_close_is_403()
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.StartAsync(password: "definitely-not-the-password", capabilities: ["authentication_failure_close"]);
        AssertClose(Observed(await client.ExpectConnectionCloseAsync()), 403, "ACCESS_REFUSED - Login was refused", 0, 0);
    }

    /// <summary>Without the capability RabbitMQ sends nothing: it waits about 3 s and drops the socket.</summary>
    [Fact]
    public async Task Bad_password_without_authentication_failure_close_drops_the_socket()
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.StartAsync(password: "definitely-not-the-password");
        var stopwatch = Stopwatch.StartNew();
        var frame = await client.ReadFrameAsync();
        output.WriteLine($"observed {frame?.ToString() ?? "socket closed, no frame"} after {stopwatch.ElapsedMilliseconds} ms");
        Assert.Null(frame);
    }

    [Fact]
    public async Task Tune_ok_frame_max_4096_is_accepted()
    {
        var (client, _) = await RawAmqpClient.OpenAsync(frameMax: 4096);
        await using var __ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
    }
}
