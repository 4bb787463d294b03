using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace CompatSuite.Fixtures;

/// <summary>A frame as read off the wire.</summary>
public sealed record RawFrame(byte Type, ushort Channel, byte[] Payload)
{
    public bool IsMethod => Type == RawAmqpClient.FrameMethod;

    public ushort ClassId => BinaryPrimitives.ReadUInt16BigEndian(Payload);

    public ushort MethodId => BinaryPrimitives.ReadUInt16BigEndian(Payload.AsSpan(2));

    public bool Is(ushort classId, ushort methodId) => IsMethod && ClassId == classId && MethodId == methodId;

    public override string ToString() =>
        IsMethod ? $"method {ClassId}/{MethodId} on channel {Channel}" : $"frame type {Type} on channel {Channel} ({Payload.Length} bytes)";
}

/// <summary>The arguments of connection.close or channel.close.</summary>
public sealed record CloseReason(ushort ReplyCode, string ReplyText, ushort ClassId, ushort MethodId)
{
    public static CloseReason Parse(RawFrame frame)
    {
        var p = frame.Payload.AsSpan(4);
        var code = BinaryPrimitives.ReadUInt16BigEndian(p);
        int textLength = p[2];
        var text = Encoding.UTF8.GetString(p.Slice(3, textLength));
        p = p[(3 + textLength)..];
        return new CloseReason(code, text, BinaryPrimitives.ReadUInt16BigEndian(p), BinaryPrimitives.ReadUInt16BigEndian(p[2..]));
    }
}

/// <summary>Values from connection.tune.</summary>
public sealed record TuneValues(ushort ChannelMax, uint FrameMax, ushort Heartbeat);

/// <summary>Builds the argument list of a method.</summary>
public sealed class MethodArgs
{
    private readonly List<byte> _bytes = [];

    public IReadOnlyList<byte> Bytes => _bytes;

    public MethodArgs Octet(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public MethodArgs Short(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
        return this;
    }

    public MethodArgs Long(uint value) => Short((ushort)(value >> 16)).Short((ushort)value);

    public MethodArgs ShortStr(string value)
    {
        var encoded = Encoding.UTF8.GetBytes(value);
        _bytes.Add(checked((byte)encoded.Length));
        _bytes.AddRange(encoded);
        return this;
    }

    public MethodArgs LongStr(byte[] value)
    {
        Long((uint)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public MethodArgs EmptyTable() => Long(0);

    /// <summary>A client-properties table holding only <c>capabilities</c>, each named capability set to true.</summary>
    public MethodArgs CapabilitiesTable(IReadOnlyCollection<string> names)
    {
        var inner = new MethodArgs();
        foreach (var name in names)
        {
            inner.ShortStr(name).Octet((byte)'t').Octet(1);
        }

        var outer = new MethodArgs().ShortStr("capabilities").Octet((byte)'F').Long((uint)inner._bytes.Count);
        outer._bytes.AddRange(inner._bytes);
        Long((uint)outer._bytes.Count);
        _bytes.AddRange(outer._bytes);
        return this;
    }
}

/// <summary>
/// A deliberately dumb AMQP 0-9-1 peer over a plain socket: it writes exactly the bytes a scenario asks for
/// (including invalid ones) and reads frames back, so scenarios can observe what the broker answers.
/// </summary>
public sealed class RawAmqpClient : IAsyncDisposable
{
    public const byte FrameMethod = 1;
    public const byte FrameHeader = 2;
    public const byte FrameBody = 3;
    public const byte FrameHeartbeat = 8;
    public const byte FrameEnd = 0xCE;

    public static readonly byte[] ProtocolHeader = "AMQP\0\0\u0009\u0001"u8.ToArray();

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawAmqpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawAmqpClient> ConnectAsync()
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(DefaultTimeout);
            await tcp.ConnectAsync(Broker.Host, Broker.Port, cts.Token);
            return new RawAmqpClient(tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Connects and completes the handshake; returns the server's tune values.</summary>
    public static async Task<(RawAmqpClient Client, TuneValues Tune)> OpenAsync(ushort? channelMax = null, uint? frameMax = null)
    {
        var client = await ConnectAsync();
        try
        {
            var tune = await client.HandshakeAsync(channelMax, frameMax);
            var reply = await client.ReadFrameAsync();
            if (reply is null || !reply.Is(10, 41))
            {
                throw new InvalidOperationException($"expected connection.open-ok, got {reply?.ToString() ?? "end of stream"}");
            }

            return (client, tune);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Header, start/start-ok (PLAIN with the URL's credentials), tune/tune-ok and connection.open, without
    /// waiting for open-ok. Heartbeats are switched off (0) unless asked for, so no timer frames interfere with the scenario.
    /// </summary>
    public async Task<TuneValues> HandshakeAsync(ushort? channelMax = null, uint? frameMax = null, string? vhost = null, ushort heartbeat = 0)
    {
        await StartAsync();
        return await TuneAndOpenAsync(channelMax, frameMax, vhost, heartbeat);
    }

    /// <summary>Protocol header, then connection.start-ok once connection.start arrives.</summary>
    public async Task StartAsync(string? password = null, IReadOnlyCollection<string>? capabilities = null)
    {
        await WriteAsync(ProtocolHeader);
        await ExpectMethodAsync(10, 10);

        var userInfo = Broker.Url.UserInfo.Split(':', 2);
        var user = Uri.UnescapeDataString(userInfo.ElementAtOrDefault(0) is { Length: > 0 } u ? u : "guest");
        var pass = password ?? Uri.UnescapeDataString(userInfo.ElementAtOrDefault(1) is { Length: > 0 } p ? p : "guest");
        await SendMethodAsync(0, 10, 11, new MethodArgs()
            .CapabilitiesTable(capabilities ?? [])
            .ShortStr("PLAIN")
            .LongStr(Encoding.UTF8.GetBytes($"\0{user}\0{pass}"))
            .ShortStr("en_US"));
    }

    /// <summary>Waits for connection.tune, answers tune-ok (server values unless overridden) and sends connection.open.</summary>
    public async Task<TuneValues> TuneAndOpenAsync(ushort? channelMax = null, uint? frameMax = null, string? vhost = null, ushort heartbeat = 0)
    {
        var tuneFrame = await ExpectMethodAsync(10, 30);
        var args = tuneFrame.Payload.AsSpan(4);
        var tune = new TuneValues(
            BinaryPrimitives.ReadUInt16BigEndian(args),
            BinaryPrimitives.ReadUInt32BigEndian(args[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(args[6..]));

        await SendMethodAsync(0, 10, 31, new MethodArgs()
            .Short(channelMax ?? tune.ChannelMax)
            .Long(frameMax ?? tune.FrameMax)
            .Short(heartbeat));

        vhost ??= Uri.UnescapeDataString(Broker.Url.AbsolutePath.TrimStart('/')) is { Length: > 0 } v ? v : "/";
        await SendMethodAsync(0, 10, 40, new MethodArgs().ShortStr(vhost).ShortStr("").Octet(0));
        return tune;
    }

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await _stream.WriteAsync(bytes, cts.Token);
        await _stream.FlushAsync(cts.Token);
    }

    public static byte[] EncodeFrame(byte type, ushort channel, ReadOnlySpan<byte> payload, byte frameEnd = FrameEnd)
    {
        var frame = new byte[payload.Length + 8];
        frame[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), channel);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(3), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(7));
        frame[^1] = frameEnd;
        return frame;
    }

    public static byte[] EncodeMethod(ushort classId, ushort methodId, MethodArgs? args = null)
    {
        var argBytes = args?.Bytes ?? [];
        var payload = new byte[4 + argBytes.Count];
        BinaryPrimitives.WriteUInt16BigEndian(payload, classId);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2), methodId);
        for (var i = 0; i < argBytes.Count; i++)
        {
            payload[4 + i] = argBytes[i];
        }

        return payload;
    }

    public Task SendFrameAsync(byte type, ushort channel, ReadOnlySpan<byte> payload, byte frameEnd = FrameEnd) =>
        WriteAsync(EncodeFrame(type, channel, payload, frameEnd));

    public Task SendMethodAsync(ushort channel, ushort classId, ushort methodId, MethodArgs? args = null) =>
        SendFrameAsync(FrameMethod, channel, EncodeMethod(classId, methodId, args));

    public Task OpenChannelAsync(ushort channel) => SendMethodAsync(channel, 20, 10, new MethodArgs().ShortStr(""));

    /// <summary>Reads up to <paramref name="count"/> bytes; fewer only if the peer closed the connection.</summary>
    public async Task<byte[]> ReadBytesAsync(int count, TimeSpan? timeout = null)
    {
        var buffer = new byte[count];
        var read = 0;
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (read < count)
            {
                var n = await _stream.ReadAsync(buffer.AsMemory(read), cts.Token);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch (IOException)
        {
            // A reset counts as the end of the stream.
        }

        return buffer[..read];
    }

    /// <summary>The next frame, or null when the peer closed the connection.</summary>
    public async Task<RawFrame?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        var header = await ReadBytesAsync(7, timeout);
        if (header.Length < 7)
        {
            return null;
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(3));
        var rest = await ReadBytesAsync(checked((int)size + 1), timeout);
        if (rest.Length < size + 1)
        {
            return null;
        }

        if (rest[^1] != FrameEnd)
        {
            throw new InvalidOperationException($"server sent frame end 0x{rest[^1]:X2}");
        }

        return new RawFrame(header[0], BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1)), rest[..^1]);
    }

    /// <summary>The next non-heartbeat frame; fails on end of stream.</summary>
    public async Task<RawFrame> ReadNonHeartbeatAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new InvalidOperationException("connection closed by the server");
            if (frame.Type != FrameHeartbeat)
            {
                return frame;
            }
        }
    }

    public async Task<RawFrame> ExpectMethodAsync(ushort classId, ushort methodId)
    {
        var frame = await ReadNonHeartbeatAsync();
        if (!frame.Is(classId, methodId))
        {
            var detail = frame.Is(10, 50) || frame.Is(20, 40) ? $" {CloseReason.Parse(frame)}" : "";
            throw new InvalidOperationException($"expected method {classId}/{methodId}, got {frame}{detail}");
        }

        return frame;
    }

    /// <summary>Expects connection.close from the server, answers close-ok and checks the socket then closes.</summary>
    public async Task<CloseReason> ExpectConnectionCloseAsync()
    {
        var reason = CloseReason.Parse(await ExpectMethodAsync(10, 50));
        await SendMethodAsync(0, 10, 51);
        Assert.True(await IsClosedByPeerAsync(), "server kept the socket open after connection.close-ok");
        return reason;
    }

    /// <summary>Expects channel.close on the channel and answers close-ok.</summary>
    public async Task<CloseReason> ExpectChannelCloseAsync(ushort channel)
    {
        var frame = await ExpectMethodAsync(20, 40);
        Assert.Equal(channel, frame.Channel);
        await SendMethodAsync(channel, 20, 41);
        return CloseReason.Parse(frame);
    }

    /// <summary>True when the peer closes the stream (discarding any frames still arriving) within the timeout.</summary>
    public async Task<bool> IsClosedByPeerAsync(TimeSpan? timeout = null)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (await _stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
