using System.Buffers.Binary;
using System.Diagnostics;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using TestSupport;

namespace Gateway.Server.Tests.Connections;

/// <summary>
/// Each kind of bad input gets RabbitMQ's reply code and a log line, and leaves the gateway
/// healthy: the next client connects as if nothing happened.
/// </summary>
public sealed class BadInputTests : GatewayTest
{
    public override async Task DisposeAsync()
    {
        // Whatever a test did, the gateway still serves a well-behaved client afterwards.
        await using (var healthy = await ScriptedAmqpClient.ConnectAsync(Gateway.Port))
        {
            await healthy.HandshakeAsync();
            await healthy.OpenChannelAsync(1);
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task Wrong_protocol_header_gets_the_0_9_1_header_back_then_eof()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendAsync("AMQP\0\0\u0008\u0000"u8);

        var reply = await client.ReadBytesAsync(8);

        Assert.Equal(AmqpConstants.ProtocolHeader.ToArray(), reply);
        Assert.Null(await client.ReadBytesAsync(1));
        await GatewayFixture.WaitUntilAsync(() => Gateway.Logs.Contains(1005));
    }

    [Fact]
    public async Task Http_request_gets_the_0_9_1_header_back_then_eof()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8);

        Assert.Equal(AmqpConstants.ProtocolHeader.ToArray(), await client.ReadBytesAsync(8));
        Assert.Null(await client.ReadBytesAsync(1));
    }

    [Fact]
    public async Task Bad_frame_end_octet_is_a_501()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        var frame = ScriptedAmqpClient.Encode(1, new ChannelOpen());
        frame[^1] = 0xAB;
        await client.SendAsync(frame);

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.FrameError, sendCloseOk: false);
        Assert.StartsWith("FRAME_ERROR - ", close.ReplyText, StringComparison.Ordinal);
        Assert.True(await client.WaitForServerCloseAsync());
    }

    [Fact]
    public async Task Frame_larger_than_frame_max_is_a_501_before_its_payload_arrives()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(frameMax: 4096);
        // Only the 7-byte header of a 1 MB frame: the size alone must be enough to refuse it.
        var header = new byte[7];
        header[0] = (byte)FrameType.Method;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(1), 1);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(3), 1_000_000);
        await client.SendAsync(header);

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.FrameError, sendCloseOk: false);
        Assert.Contains("frame_too_large", close.ReplyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_frame_whose_payload_equals_frame_max_is_accepted_as_RabbitMQ_allows()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(frameMax: 4096);
        await client.OpenChannelAsync(1);
        await client.SendMethodAsync(1, new QueueDeclare("q"));
        await client.ExpectMethodAsync<QueueDeclareOk>(1);
        // rabbit_reader's FRAME_SIZE_FUDGE: a payload may be as large as frame_max itself.
        byte[] header = [0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0];
        await client.SendAsync([
            .. ScriptedAmqpClient.Encode(1, new BasicPublish("", "q", false, false)),
            .. ScriptedAmqpClient.RawFrame((byte)FrameType.Header, 1, header),
            .. ScriptedAmqpClient.RawFrame((byte)FrameType.Body, 1, new byte[4096]),
        ]);

        // The complete command is published (not a 501): the queue now holds it.
        await client.SendMethodAsync(1, new QueueDeclare("q", passive: true));
        Assert.Equal(1u, (await client.ExpectMethodAsync<QueueDeclareOk>(1)).MessageCount);
    }

    [Fact]
    public async Task Body_frame_one_byte_over_frame_max_is_a_501()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync(frameMax: 4096);
        await client.OpenChannelAsync(1);
        byte[] header = [0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01, 0, 0];
        await client.SendAsync([
            .. ScriptedAmqpClient.Encode(1, new BasicPublish("", "q", false, false)),
            .. ScriptedAmqpClient.RawFrame((byte)FrameType.Header, 1, header),
            .. ScriptedAmqpClient.RawFrame((byte)FrameType.Body, 1, new byte[4097]),
        ]);

        await client.ExpectConnectionCloseAsync(ReplyCode.FrameError, sendCloseOk: false);
    }

    [Fact]
    public async Task Unknown_frame_type_is_a_501()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.SendAsync(ScriptedAmqpClient.RawFrame(7, 0, [1, 2, 3]));

        await client.ExpectConnectionCloseAsync(ReplyCode.FrameError, sendCloseOk: false);
    }

    [Fact]
    public async Task Content_header_without_a_content_method_is_a_505()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        byte[] header = [0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
        await client.SendAsync(ScriptedAmqpClient.RawFrame((byte)FrameType.Header, 1, header));

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.UnexpectedFrame);
        Assert.Equal("UNEXPECTED_FRAME - expected method frame, got non method frame instead", close.ReplyText);
    }

    [Fact]
    public async Task Body_frame_without_a_content_method_is_a_505()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendAsync(ScriptedAmqpClient.RawFrame((byte)FrameType.Body, 1, [1, 2, 3]));

        await client.ExpectConnectionCloseAsync(ReplyCode.UnexpectedFrame);
    }

    [Fact]
    public async Task Method_where_a_content_header_is_due_is_a_505()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendAsync([
            .. ScriptedAmqpClient.Encode(1, new BasicPublish("", "q", false, false)),
            .. ScriptedAmqpClient.Encode(1, new ChannelFlow(true)),
        ]);

        var close = await client.ExpectConnectionCloseAsync(ReplyCode.UnexpectedFrame);
        Assert.Equal("UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", close.ReplyText);
    }

    [Fact]
    public async Task Heartbeat_on_a_non_zero_channel_is_a_505()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendAsync(ScriptedAmqpClient.RawFrame((byte)FrameType.Heartbeat, 1, []));

        await client.ExpectConnectionCloseAsync(ReplyCode.UnexpectedFrame);
    }

    [Fact]
    public async Task Unknown_method_id_is_a_hard_error()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        await client.SendAsync(ScriptedAmqpClient.RawFrame((byte)FrameType.Method, 1, [0, 60, 0x03, 0xE7]));

        var close = await client.ExpectMethodAsync<ConnectionClose>(0);
        Assert.True(((ReplyCode)close.ReplyCode).IsHardError());
    }

    [Fact]
    public async Task Truncated_method_arguments_are_a_501()
    {
        await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        // channel.flow with its bit octet missing.
        await client.SendAsync(ScriptedAmqpClient.RawFrame((byte)FrameType.Method, 1, [0, 20, 0, 20]));

        await client.ExpectConnectionCloseAsync(ReplyCode.FrameError);
    }

    [Fact]
    public async Task Client_that_vanishes_mid_frame_is_cleaned_up_and_logged()
    {
        var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await client.HandshakeAsync();
        await client.OpenChannelAsync(1);
        var frame = ScriptedAmqpClient.Encode(1, new ChannelFlow(true));
        await client.SendAsync(frame.AsSpan(0, 5));
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenChannels == 1);
        client.Vanish();

        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0 && Gateway.Metrics.OpenChannels == 0);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Logs.Contains(1009) || Gateway.Logs.Contains(1012));
    }

    [Fact]
    public async Task Ten_thousand_connections_opened_and_dropped_leave_counts_and_memory_at_baseline()
    {
        await Churn(500); // warm-up: JIT, pools, Kestrel's connection plumbing
        ForceGc();
        var baselineMemory = GC.GetTotalMemory(forceFullCollection: true);
        var acceptedBefore = Gateway.Metrics.AcceptedConnections;

        await Churn(10_000);

        Assert.Equal(acceptedBefore + 10_000, Gateway.Metrics.AcceptedConnections);
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0, TimeSpan.FromSeconds(30));
        Assert.Equal(0, Gateway.Metrics.OpenChannels);
        ForceGc();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        // No per-connection state may survive: 10,000 leaked connections would be tens of MB.
        Assert.True(after - baselineMemory < 8 * 1024 * 1024, $"managed heap grew by {(after - baselineMemory) / 1024} KB over 10,000 connections");
    }

    private async Task Churn(int count)
    {
        var sw = Stopwatch.StartNew();
        const int parallelism = 32;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) =>
        {
            await using var client = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
            switch (i % 4)
            {
                case 0:
                    // Drop before saying anything.
                    break;
                case 1:
                    await client.SendProtocolHeaderAsync();
                    await client.ExpectMethodAsync<ConnectionStart>(0);
                    break;
                case 2:
                    await client.HandshakeAsync();
                    await client.OpenChannelAsync(1);
                    break;
                default:
                    await client.HandshakeAsync();
                    await client.SendMethodAsync(0, new ConnectionClose(200, "bye", 0, 0));
                    await client.ExpectMethodAsync<ConnectionCloseOk>(0);
                    break;
            }

            if (i % 8 == 2)
            {
                client.Vanish();
            }
        });
        Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), $"churn of {count} took {sw.Elapsed}");
    }

    private static void ForceGc()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }
}
