using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Gateway.Broker.Topology;
using Gateway.Protocol;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Spec;
using Gateway.Server.Channels;
using Gateway.Server.Errors;
using Gateway.Server.Hosting;
using Gateway.Server.Logging;
using Gateway.Server.Metrics;
using Gateway.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Connections;

/// <summary>
/// One AMQP connection: the read loop, the connection-level state machine and the channel table.
/// Split by concern: the handshake is in AmqpConnection.Handshake.cs, heartbeats and timeouts in
/// AmqpConnection.Heartbeat.cs; channel-level methods live in <see cref="AmqpChannel"/>.
/// All frame handling runs on the read loop, one frame at a time, so connection and channel state
/// need no locks; only output is shared (see <see cref="ConnectionOutput"/>).
/// </summary>
internal sealed partial class AmqpConnection
{
    private readonly ConnectionContext _transport;
    private readonly PipeReader _input;
    private readonly GatewayOptions _options;
    private readonly ICredentialStore _credentials;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<ushort, AmqpChannel> _channels = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<Func<ValueTask>> _posted = new();
    private readonly CancellationTokenSource _lifetime = new();
    // Method payloads that straddle pipe segments are copied here; sized for the largest frame.
    private byte[] _scratch = [];

    private ConnectionState _state = ConnectionState.AwaitingProtocolHeader;
    private bool _terminate;
    private bool _lingerBeforeDrop;   // a framing error: read on briefly before dropping the socket (DiscardInputForAMomentAsync)

    /// <summary>How long input is read and discarded after a framing error before the socket is dropped.</summary>
    private static readonly TimeSpan LingerAfterFatalError = TimeSpan.FromSeconds(1);
    private long _bytesReceived;

    public AmqpConnection(
        ConnectionContext transport,
        GatewayOptions options,
        ICredentialStore credentials,
        GatewayMetrics metrics,
        ILogger logger,
        TimeProvider timeProvider,
        TopologyService? topology = null,
        DirectReplyTo? directReplies = null,
        Control.TrafficControl? traffic = null)
    {
        Traffic = traffic;
        Topology = topology;
        DirectReplies = directReplies ?? new DirectReplyTo();
        _transport = transport;
        _input = transport.Transport.Input;
        _options = options;
        _credentials = credentials;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        Output = new ConnectionOutput(transport.Transport.Output, metrics, timeProvider);
        Id = transport.ConnectionId;
        Remote = transport.RemoteEndPoint;
    }

    public string Id { get; }

    public EndPoint? Remote { get; }

    internal ConnectionOutput Output { get; }

    internal ILogger Logger => _logger;

    /// <summary>The broker's exchanges and queues; null only in harnesses that exercise the protocol alone.</summary>
    internal TopologyService? Topology { get; }

    /// <summary>Direct reply-to addresses of every connection of this gateway.</summary>
    internal DirectReplyTo DirectReplies { get; }

    /// <summary>The user and vhost as the broker sees them; set once connection.open succeeded.</summary>
    internal BrokerSession? Session { get; private set; }

    internal GatewayMetrics Metrics => _metrics;

    /// <summary>frame_max in force: RabbitMQ's FRAME_MIN_SIZE until tune-ok, then the negotiated value.</summary>
    internal uint FrameMax { get; private set; } = AmqpConstants.FrameMinSize;

    internal ushort ChannelMax { get; private set; }

    /// <summary>The largest message body accepted (406 beyond it).</summary>
    internal long MaxMessageSize => _options.MaxMessageSize;

    /// <summary>
    /// Bytes of published messages handed to the log and not yet durable, over all channels. Past
    /// <see cref="GatewayOptions.MaxPublishBytesInFlight"/> the read loop waits, so a publisher of large
    /// messages is slowed through TCP instead of filling memory.
    /// </summary>
    private long _publishBytesInFlight;

    /// <summary>The gateway's clock (a fake one in tests): publish timestamps, from which message TTL counts.</summary>
    internal TimeProvider Time => _timeProvider;

    internal long PublishBytesInFlight => Interlocked.Read(ref _publishBytesInFlight);

    internal bool PublishBudgetExceeded => PublishBytesInFlight > _options.MaxPublishBytesInFlight;

    internal void AddPublishBytesInFlight(long delta) => Interlocked.Add(ref _publishBytesInFlight, delta);

    public async Task RunAsync()
    {
        var started = _timeProvider.GetTimestamp();
        _metrics.ConnectionOpened();
        AmqpConnectionLog.ConnectionAccepted(_logger, Id, Remote);
        StartHandshakeTimer();
        try
        {
            await ReadLoopAsync();
            if (_lingerBeforeDrop)
            {
                await DiscardInputForAMomentAsync();
            }
        }
        finally
        {
            StopTimers();
            StopTrafficControl();
            foreach (var channel in _channels.Values)
            {
                channel.OnConnectionClosed();
            }

            _metrics.ChannelsChanged(-_channels.Count);
            _channels.Clear();
            await CloseSessionAsync();
            await Output.CompleteAsync();
            await _input.CompleteAsync();
            _lifetime.Dispose();
            _metrics.ConnectionClosed();
            AmqpConnectionLog.ConnectionClosed(
                _logger, Id, (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds, _bytesReceived, Output.BytesSent);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the read loop, which owns the connection's and channels' state,
    /// waking it if it is waiting for the client (which may be silent: a consumer that stopped acking).
    /// For work that starts elsewhere, such as a timer closing a channel.
    /// </summary>
    internal void Post(Func<ValueTask> action)
    {
        _posted.Enqueue(action);
        _input.CancelPendingRead();
    }

    private async ValueTask RunPostedAsync()
    {
        while (_posted.TryDequeue(out Func<ValueTask>? action))
        {
            await action();
        }
    }

    /// <summary>
    /// After a framing error the connection is dropped (RabbitMQ's fatal_frame_error), but only after reading on
    /// for a moment, discarding: the rest of the broken frame and the client's close-ok may still be arriving, and
    /// closing a socket with unread input sends a reset, which can destroy the connection.close (and its 501)
    /// before the client reads it.
    /// </summary>
    private async Task DiscardInputForAMomentAsync()
    {
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        linger.CancelAfter(LingerAfterFatalError);
        try
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync(linger.Token);
                _input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
        {
            // The moment passed, or the client went first: either way the connection goes now.
        }
    }

    private async Task ReadLoopAsync()
    {
        while (!_terminate)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(_lifetime.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
            {
                AmqpConnectionLog.ClientDisconnected(_logger, Id);
                return;
            }

            var buffer = result.Buffer;
            var before = buffer.Length;
            try
            {
                while (!_terminate)
                {
                    bool stoppedEarly;
                    try
                    {
                        await ProcessSome(ref buffer, out stoppedEarly);
                    }
                    catch (AmqpProtocolException ex)
                    {
                        // Framing is broken: RabbitMQ (fatal_frame_error) reports it and drops the
                        // connection, since no later byte can be trusted to start a frame.
                        await CloseConnectionAsync(new AmqpException(ex.ReplyCode, ex.Message), waitForCloseOk: false);
                        _lingerBeforeDrop = true;
                        break;
                    }
                    catch (AmqpException ex)
                    {
                        // From tuning on the client speaks frames, so it can answer close-ok; before that
                        // (bad mechanism, malformed start-ok) RabbitMQ just closes after its close.
                        await CloseConnectionAsync(ex, waitForCloseOk: _state >= ConnectionState.AwaitingTuneOk);
                        stoppedEarly = true;
                    }

                    if (!stoppedEarly)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                AmqpConnectionLog.UnexpectedFailure(_logger, Id, Remote, ex);
                await CloseConnectionAsync(new AmqpException(ReplyCode.InternalError, "internal error"), waitForCloseOk: false);
            }
            finally
            {
                var consumed = before - buffer.Length;
                _bytesReceived += consumed;
                _metrics.Received(consumed);
                _input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCanceled && !result.IsCompleted && !_terminate)
            {
                // Woken by Post, not by the client.
                await RunPostedAsync();
                continue;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                if (!buffer.IsEmpty && !_terminate)
                {
                    AmqpConnectionLog.ClientVanishedMidFrame(_logger, Id, Remote, buffer.Length);
                }
                else if (!_terminate)
                {
                    AmqpConnectionLog.ClientDisconnected(_logger, Id);
                }

                return;
            }
        }
    }

    /// <summary>
    /// Handles complete frames from the front of <paramref name="buffer"/> synchronously until it
    /// runs out or a handler returns work that has to wait (a reply blocked on the socket, a
    /// credential check); then <paramref name="stoppedEarly"/> is true and the caller awaits that
    /// work before calling again, so replies stay in order. Frames are decoded before any await,
    /// so buffer slices are never used after the loop advances the pipe.
    /// </summary>
    private ValueTask ProcessSome(ref ReadOnlySequence<byte> buffer, out bool stoppedEarly)
    {
        stoppedEarly = false;
        if (_state == ConnectionState.AwaitingProtocolHeader)
        {
            var headerBuffer = buffer;
            switch (ProtocolHeader.TryRead(ref buffer))
            {
                case ProtocolHeaderResult.NeedMoreData:
                    return ValueTask.CompletedTask;
                case ProtocolHeaderResult.Rejected:
                    var hex = Convert.ToHexString(headerBuffer.Slice(0, Math.Min(headerBuffer.Length, 8)).ToArray());
                    buffer = buffer.Slice(buffer.End);
                    return RejectProtocolHeaderAsync(hex);
                default:
                    stoppedEarly = true;
                    return SendStartAsync();
            }
        }

        while (!_terminate && FrameReader.TryReadFrame(ref buffer, FrameMax, out var frame))
        {
            NoteFrameReceived();
            var pending = HandleFrame(frame);
            if (!pending.IsCompletedSuccessfully)
            {
                stoppedEarly = true;
                return pending;
            }
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask HandleFrame(in Frame frame)
    {
        if (_state == ConnectionState.Closing)
        {
            // After connection.close, RabbitMQ discards everything but close and close-ok.
            return frame.Type == FrameType.Method && frame.Channel == 0 ? HandleWhileClosing(frame) : ValueTask.CompletedTask;
        }

        if (frame.Type == FrameType.Heartbeat)
        {
            if (frame.Channel != 0)
            {
                throw new AmqpException(ReplyCode.UnexpectedFrame, $"heartbeat frame on channel {frame.Channel}");
            }

            return ValueTask.CompletedTask;
        }

        if (frame.Channel == 0)
        {
            if (frame.Type != FrameType.Method)
            {
                throw new AmqpException(ReplyCode.UnexpectedFrame, $"{FrameTypeName(frame.Type)} frame on channel 0");
            }

            return HandleConnectionMethod(frame);
        }

        if (_state != ConnectionState.Open)
        {
            throw new AmqpException(ReplyCode.ChannelError, $"unexpected frame on channel {frame.Channel} in connection state {StateName}");
        }

        if (!_channels.TryGetValue(frame.Channel, out var channel))
        {
            return HandleFrameForUnknownChannel(frame);
        }

        return channel.HandleFrame(frame);
    }

    private ValueTask HandleFrameForUnknownChannel(in Frame frame)
    {
        if (frame.Type != FrameType.Method || frame.ReadMethodId() != AmqpMethodId.ChannelOpen)
        {
            // RabbitMQ starts a channel process for any new number, which then rejects everything
            // but channel.open (rabbit_channel: "expected 'channel.open'"), a hard 504.
            var method = frame.Type == FrameType.Method ? frame.ReadMethodId() : (AmqpMethodId?)null;
            throw new AmqpException(ReplyCode.ChannelError, "expected 'channel.open'", method);
        }

        if (ChannelMax != 0 && _channels.Count >= ChannelMax)
        {
            // RabbitMQ raises this in its reader before any channel exists, so it names no method (0/0).
            throw new AmqpException(
                ReplyCode.NotAllowed,
                $"number of channels opened ({_channels.Count}) has reached the negotiated channel_max ({ChannelMax})");
        }

        var channel = new AmqpChannel(this, frame.Channel);
        _channels.Add(frame.Channel, channel);
        _metrics.ChannelsChanged(1);
        return channel.HandleFrame(frame);
    }

    internal void RemoveChannel(ushort number)
    {
        if (_channels.Remove(number))
        {
            _metrics.ChannelsChanged(-1);
        }
    }

    internal int OpenChannelCount => _channels.Count;

    /// <summary>A contiguous view of a method frame's arguments (after class-id and method-id).</summary>
    internal ReadOnlySpan<byte> GetMethodArguments(in Frame frame) => GetContiguousPayload(frame)[4..];

    /// <summary>The frame's payload as one span, copied into a reused scratch buffer only if it spans segments.</summary>
    internal ReadOnlySpan<byte> GetContiguousPayload(in Frame frame)
    {
        if (!frame.Payload.IsSingleSegment && _scratch.Length < frame.Payload.Length)
        {
            _scratch = new byte[Math.Max(frame.Payload.Length, FrameMax)];
        }

        return frame.GetContiguousPayload(_scratch);
    }

    private ValueTask HandleConnectionMethod(in Frame frame)
    {
        var id = frame.ReadMethodId();
        var arguments = GetMethodArguments(frame);
        switch (id, _state)
        {
            case (AmqpMethodId.ConnectionStartOk, ConnectionState.AwaitingStartOk):
                return HandleStartOkAsync(ConnectionStartOk.Read(arguments));
            case (AmqpMethodId.ConnectionSecureOk, ConnectionState.AwaitingStartOk):
                // We only offer PLAIN and AMQPLAIN, which never send connection.secure.
                throw new AmqpException(ReplyCode.CommandInvalid, "unexpected connection.secure-ok: no challenge was sent", id);
            case (AmqpMethodId.ConnectionTuneOk, ConnectionState.AwaitingTuneOk):
                HandleTuneOk(ConnectionTuneOk.Read(arguments));
                return ValueTask.CompletedTask;
            case (AmqpMethodId.ConnectionOpen, ConnectionState.AwaitingOpen):
                return HandleOpenAsync(ConnectionOpen.Read(arguments));
            case (AmqpMethodId.ConnectionClose, _):
                return HandleClientCloseAsync(ConnectionClose.Read(arguments));
            case (AmqpMethodId.ConnectionCloseOk, _):
                // close-ok for a close we never sent: nothing to finish; RabbitMQ ignores it too.
                return ValueTask.CompletedTask;
            case (AmqpMethodId.ConnectionUpdateSecret, ConnectionState.Open):
                return HandleUpdateSecretAsync(ConnectionUpdateSecret.Read(arguments));
            default:
                if (!id.IsKnown())
                {
                    throw new AmqpException(ReplyCode.CommandInvalid, $"unknown method {id.ClassId()}/{id.MethodId()}", id);
                }

                // rabbit_reader handle_method0: anything else on channel 0 is a 504.
                throw new AmqpException(ReplyCode.ChannelError, $"unexpected method in connection state {StateName}", id);
        }
    }

    private async ValueTask HandleClientCloseAsync(ConnectionClose close)
    {
        AmqpConnectionLog.ClientClosedConnection(_logger, Id, Remote, close.ReplyCode, close.ReplyText);

        // The client may act on close-ok at once (another connection redeclaring the queue), so the
        // exclusive queues go first; teardown repeats this for connections that simply vanish.
        await CloseSessionAsync();
        await Output.SendMethodAsync(0, new ConnectionCloseOk());
        _terminate = true;
    }

    private ValueTask HandleWhileClosing(in Frame frame)
    {
        switch (frame.ReadMethodId())
        {
            case AmqpMethodId.ConnectionCloseOk:
                _terminate = true;
                return ValueTask.CompletedTask;
            case AmqpMethodId.ConnectionClose:
                // Both sides closed at once: answer and finish.
                _terminate = true;
                return Output.SendMethodAsync(0, new ConnectionCloseOk());
            default:
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Sends connection.close for a hard error and, when the peer can still read frames, waits for
    /// close-ok (bounded by <see cref="GatewayOptions.CloseTimeout"/>) while discarding other frames.
    /// </summary>
    internal async ValueTask CloseConnectionAsync(AmqpException error, bool waitForCloseOk)
    {
        if (_state is ConnectionState.Closing or ConnectionState.Closed)
        {
            return;
        }

        var classId = error.Method?.ClassId() ?? 0;
        var methodId = error.Method?.MethodId() ?? 0;
        var text = error.ReplyText;
        AmqpConnectionLog.ConnectionError(_logger, Id, Remote, (ushort)error.ReplyCode, text, classId, methodId);
        await Output.SendMethodAsync(0, new ConnectionClose((ushort)error.ReplyCode, text, classId, methodId));
        if (waitForCloseOk)
        {
            _state = ConnectionState.Closing;
            StartCloseTimer();
        }
        else
        {
            _state = ConnectionState.Closed;
            _terminate = true;
        }
    }

    /// <summary>Drops the TCP connection without a close frame (heartbeat or handshake timeout).</summary>
    internal void Abort()
    {
        _terminate = true;
        _state = ConnectionState.Closed;
        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _transport.Abort(new ConnectionAbortedException("closed by the gateway"));
    }

    private async ValueTask RejectProtocolHeaderAsync(string headerHex)
    {
        AmqpConnectionLog.ProtocolHeaderRejected(_logger, Id, Remote, headerHex);
        await Output.SendProtocolHeaderAsync();
        _state = ConnectionState.Closed;
        _terminate = true;
    }

    private string StateName => _state switch
    {
        ConnectionState.AwaitingProtocolHeader or ConnectionState.AwaitingStartOk => "starting",
        ConnectionState.AwaitingTuneOk => "tuning",
        ConnectionState.AwaitingOpen => "opening",
        ConnectionState.Open => "running",
        _ => "closing",
    };

    /// <summary>Exclusive queues die with their connection (RabbitMQ); a failure is logged, never thrown from teardown.</summary>
    private async Task CloseSessionAsync()
    {
        if (Session is null || Topology is null)
        {
            return;
        }

        try
        {
            await Topology.SessionClosedAsync(Session);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            AmqpConnectionLog.SessionCleanupFailed(_logger, Id, ex);
        }
    }

    private static string FrameTypeName(FrameType type) => type switch
    {
        FrameType.Header => "content header",
        FrameType.Body => "content body",
        FrameType.Heartbeat => "heartbeat",
        _ => "method",
    };
}

internal enum ConnectionState
{
    AwaitingProtocolHeader,
    AwaitingStartOk,
    AwaitingTuneOk,
    AwaitingOpen,
    Open,
    /// <summary>We sent connection.close and wait for close-ok.</summary>
    Closing,
    Closed,
}
