using Gateway.Server.Logging;

namespace Gateway.Server.Connections;

/// <summary>
/// Timers of a connection, all on the injected TimeProvider so tests advance time instead of
/// sleeping: the handshake deadline, heartbeats both ways, and the wait for close-ok.
/// </summary>
internal sealed partial class AmqpConnection
{
    private ITimer? _handshakeTimer;
    private ITimer? _heartbeatTimer;
    private ITimer? _closeTimer;
    private long _lastReceivedTimestamp;
    private TimeSpan _heartbeatInterval;

    /// <summary>Any frame counts as traffic for heartbeat purposes (RabbitMQ docs, "Heartbeats").</summary>
    private void NoteFrameReceived() => Interlocked.Exchange(ref _lastReceivedTimestamp, _timeProvider.GetTimestamp());

    private void StartHandshakeTimer()
    {
        if (_options.HandshakeTimeout <= TimeSpan.Zero)
        {
            return;
        }

        _handshakeTimer = _timeProvider.CreateTimer(
            static state =>
            {
                var connection = (AmqpConnection)state!;
                AmqpConnectionLog.HandshakeTimeout(
                    connection._logger, connection.Id, connection.Remote, (long)connection._options.HandshakeTimeout.TotalMilliseconds);
                connection.Abort();
            },
            this,
            _options.HandshakeTimeout,
            Timeout.InfiniteTimeSpan);
    }

    private void StopHandshakeTimer() => _handshakeTimer?.Dispose();

    /// <summary>
    /// Ticks every timeout/2: sends a heartbeat if nothing else was written for that long, and
    /// drops the connection (no close frame, as RabbitMQ does) once the client has been silent for
    /// two full timeouts.
    /// </summary>
    private void StartHeartbeats(ushort heartbeatSeconds)
    {
        if (heartbeatSeconds == 0)
        {
            return;
        }

        _heartbeatInterval = TimeSpan.FromSeconds(heartbeatSeconds);
        NoteFrameReceived();
        var tick = _heartbeatInterval / 2;
        _heartbeatTimer = _timeProvider.CreateTimer(static state => ((AmqpConnection)state!).OnHeartbeatTick(), this, tick, tick);
    }

    private void OnHeartbeatTick()
    {
        if (_waitingForPublishLimit)
        {
            // The read loop is held by a publish limit, so the client's heartbeats wait unread in the socket: the
            // silence is ours. RabbitMQ likewise pauses its heartbeat monitor while it blocks a connection's reader.
            NoteFrameReceived();
        }

        var sinceReceived = _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastReceivedTimestamp));
        if (sinceReceived >= _heartbeatInterval * 2)
        {
            AmqpConnectionLog.HeartbeatTimeout(_logger, Id, Remote, (int)_heartbeatInterval.TotalSeconds);
            Abort();
            return;
        }

        var sinceSent = _timeProvider.GetElapsedTime(Output.LastWriteTimestamp);
        if (sinceSent >= _heartbeatInterval / 2)
        {
            _ = SendHeartbeatSafelyAsync();
        }
    }

    private async Task SendHeartbeatSafelyAsync()
    {
        try
        {
            await Output.SendHeartbeatAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The connection is going away; its read loop reports that.
        }
    }

    private void StartCloseTimer()
    {
        _closeTimer = _timeProvider.CreateTimer(static state => ((AmqpConnection)state!).Abort(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
    }

    private void StopTimers()
    {
        _handshakeTimer?.Dispose();
        _heartbeatTimer?.Dispose();
        _closeTimer?.Dispose();
    }
}
