using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace TestSupport;

/// <summary>
/// A scripted AMQP peer over a real socket for the paths stock clients never take: wrong headers,
/// corrupt frames, frames on unopened channels, vanishing mid-frame. Writes any bytes; reads and
/// decodes whatever the server sends back.
/// </summary>
public sealed class ScriptedAmqpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private ScriptedAmqpClient(TcpClient tcp, TimeSpan readTimeout)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        ReadTimeout = readTimeout;
    }

    public static async Task<ScriptedAmqpClient> ConnectAsync(int port, TimeSpan? readTimeout = null)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new ScriptedAmqpClient(tcp, readTimeout ?? TimeSpan.FromSeconds(10));
    }

    /// <summary>How long a read waits; set it short only where a test expects silence.</summary>
    public TimeSpan ReadTimeout { get; set; }

    public Task SendAsync(ReadOnlySpan<byte> bytes) => _stream.WriteAsync(bytes.ToArray()).AsTask();

    public Task SendProtocolHeaderAsync() => SendAsync(AmqpConstants.ProtocolHeader);

    public Task SendMethodAsync<T>(ushort channel, T method)
        where T : struct, IAmqpMethod<T> => SendAsync(Encode(channel, method));

    /// <summary>A content-bearing method with its header and a single body frame (basic properties empty).</summary>
    public Task PublishAsync<T>(ushort channel, T method, byte[] body)
        where T : struct, IAmqpMethod<T>
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMethod(writer, channel, method);
        FrameWriter.WriteContent(writer, channel, AmqpClassId.Basic, new byte[2] /* no property flags */, (ReadOnlyMemory<byte>)body, 0);
        return SendAsync(writer.WrittenSpan);
    }

    public static byte[] Encode<T>(ushort channel, T method)
        where T : struct, IAmqpMethod<T>
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMethod(writer, channel, method);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>A raw frame with any type, channel, payload and end octet.</summary>
    public static byte[] RawFrame(byte type, ushort channel, ReadOnlySpan<byte> payload, byte frameEnd = AmqpConstants.FrameEnd)
    {
        var bytes = new byte[AmqpConstants.FrameOverhead + payload.Length];
        bytes[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1), channel);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(3), (uint)payload.Length);
        payload.CopyTo(bytes.AsSpan(7));
        bytes[^1] = frameEnd;
        return bytes;
    }

    /// <summary>PLAIN response "\0user\0password".</summary>
    public static byte[] PlainResponse(string user, string password) =>
        [0, .. System.Text.Encoding.UTF8.GetBytes(user), 0, .. System.Text.Encoding.UTF8.GetBytes(password)];

    public static FieldTable ClientProperties(bool authenticationFailureClose = true)
    {
        var capabilities = new FieldTable
        {
            { "publisher_confirms", true },
            { "exchange_exchange_bindings", true },
            { "basic.nack", true },
            { "consumer_cancel_notify", true },
            { "connection.blocked", true },
            { "authentication_failure_close", authenticationFailureClose },
        };
        return new FieldTable { { "product", "scripted" }, { "capabilities", capabilities } };
    }

    /// <summary>Header → start → start-ok → tune; returns the server's tune.</summary>
    public async Task<ConnectionTune> StartAsync(string user = "guest", string password = "guest", bool authenticationFailureClose = true)
    {
        await SendProtocolHeaderAsync();
        await ExpectMethodAsync<ConnectionStart>(0);
        await SendMethodAsync(0, new ConnectionStartOk(ClientProperties(authenticationFailureClose), "PLAIN", PlainResponse(user, password), "en_US"));
        return await ExpectMethodAsync<ConnectionTune>(0);
    }

    /// <summary>The whole handshake with the server's tune values accepted, then vhost "/".</summary>
    public async Task HandshakeAsync(ushort heartbeat = 0, uint frameMax = 0)
    {
        var tune = await StartAsync();
        await SendMethodAsync(0, new ConnectionTuneOk(tune.ChannelMax, frameMax == 0 ? tune.FrameMax : frameMax, heartbeat));
        await SendMethodAsync(0, new ConnectionOpen("/"));
        await ExpectMethodAsync<ConnectionOpenOk>(0);
    }

    public async Task OpenChannelAsync(ushort channel)
    {
        await SendMethodAsync(channel, new ChannelOpen());
        await ExpectMethodAsync<ChannelOpenOk>(channel);
    }

    /// <summary>Reads the next frame, or null when the server closed the socket.</summary>
    public async Task<ReceivedFrame?> ReadFrameAsync()
    {
        using var cts = new CancellationTokenSource(ReadTimeout);
        var header = new byte[7];
        if (!await ReadExactlyOrEofAsync(header, cts.Token))
        {
            return null;
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(3));
        var rest = new byte[size + 1];
        if (!await ReadExactlyOrEofAsync(rest, cts.Token))
        {
            return null;
        }

        return new ReceivedFrame((FrameType)header[0], BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1)), rest[..^1], rest[^1]);
    }

    /// <summary>Reads exactly <paramref name="count"/> raw bytes (for the protocol-header reply).</summary>
    public async Task<byte[]?> ReadBytesAsync(int count)
    {
        using var cts = new CancellationTokenSource(ReadTimeout);
        var buffer = new byte[count];
        return await ReadExactlyOrEofAsync(buffer, cts.Token) ? buffer : null;
    }

    public async Task<T> ExpectMethodAsync<T>(ushort channel)
        where T : struct, IAmqpMethod<T>
    {
        var frame = await ReadFrameAsync() ?? throw new InvalidOperationException($"socket closed while expecting {T.Id.Name()}");
        if (frame.Type == FrameType.Heartbeat)
        {
            return await ExpectMethodAsync<T>(channel);
        }

        if (frame.Type != FrameType.Method || frame.MethodId != T.Id || frame.Channel != channel)
        {
            throw new InvalidOperationException(
                $"expected {T.Id.Name()} on channel {channel}, got {frame.Describe()}");
        }

        return T.Read(frame.Payload.AsSpan(4));
    }

    /// <summary>Expects connection.close with this code; answers close-ok unless told not to.</summary>
    public async Task<ConnectionClose> ExpectConnectionCloseAsync(ReplyCode code, bool sendCloseOk = true)
    {
        var close = await ExpectMethodAsync<ConnectionClose>(0);
        if (close.ReplyCode != (ushort)code)
        {
            throw new InvalidOperationException($"expected connection.close {(ushort)code}, got {close.ReplyCode} '{close.ReplyText}'");
        }

        if (sendCloseOk)
        {
            try
            {
                await SendMethodAsync(0, new ConnectionCloseOk());
            }
            catch (IOException)
            {
                // The server may already have dropped the socket after a handshake-time close.
            }
        }

        return close;
    }

    /// <summary>True when the server has closed the socket (EOF) within the read timeout; skips other frames.</summary>
    public async Task<bool> WaitForServerCloseAsync()
    {
        try
        {
            while (await ReadFrameAsync() is not null)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> ReadExactlyOrEofAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            }
            catch (IOException)
            {
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    /// <summary>Closes the socket abruptly (RST where the OS allows), like a crashed client.</summary>
    public void Vanish()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Close();
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed record ReceivedFrame(FrameType Type, ushort Channel, byte[] Payload, byte FrameEnd)
{
    public AmqpMethodId MethodId => Type == FrameType.Method && Payload.Length >= 4
        ? (AmqpMethodId)BinaryPrimitives.ReadUInt32BigEndian(Payload)
        : 0;

    public string Describe()
    {
        if (Type != FrameType.Method)
        {
            return $"{Type} frame on channel {Channel}";
        }

        if (MethodId is AmqpMethodId.ConnectionClose or AmqpMethodId.ChannelClose)
        {
            var close = ConnectionClose.Read(Payload.AsSpan(4));
            return $"{MethodId.Name()} {close.ReplyCode} '{close.ReplyText}' on channel {Channel}";
        }

        return $"{MethodId.Name()} on channel {Channel}";
    }
}
