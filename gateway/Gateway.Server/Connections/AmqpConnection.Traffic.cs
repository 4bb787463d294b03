using System.Net;
using Gateway.Broker.Traffic;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Connection;
using Gateway.Server.Control;
using Gateway.Server.Logging;

namespace Gateway.Server.Connections;

/// <summary>
/// The connection under the controller's traffic control (docs/traffic-control.md): who it is for scoped
/// pauses, and how a publish limit holds it. A publish without a token makes the read loop wait before the
/// next frame, so the client is slowed by TCP back-pressure, never by an error; clients that advertised the
/// connection.blocked capability are told, as RabbitMQ tells them about a resource alarm.
/// </summary>
internal sealed partial class AmqpConnection
{
    /// <summary>connection.blocked's reason while a publish limit holds the connection.</summary>
    internal const string PublishLimitReason = "publish rate limit";

    /// <summary>A held connection is released (connection.unblocked) after going this long without having to wait.</summary>
    internal static readonly TimeSpan ReleaseAfterQuiet = TimeSpan.FromSeconds(1);

    private static long s_lastNumber;

    private readonly Lock _blockLock = new();
    private ClientIdentity? _clientIdentity;
    private bool _blocked;                 // from the first wait until released; connection.blocked was sent if advertised
    private volatile bool _waitingForPublishLimit;
    private long _blockedSince;
    private long _lastWaitEnded;
    private ExchangePublishing? _heldBy;
    private ITimer? _releaseTimer;

    /// <summary>A number for this connection, unique in the process, for the controller's reports.</summary>
    internal long Number { get; } = Interlocked.Increment(ref s_lastNumber);

    /// <summary>The controller's state in this gateway; null in harnesses without one.</summary>
    internal TrafficControl? Traffic { get; }

    /// <summary>Who this connection is for scoped pauses: client address without port, and connection_name. Fixed once open.</summary>
    internal ClientIdentity ClientIdentity =>
        _clientIdentity ??= new ClientIdentity(Number, ClientIdentity.Normalize((Remote as IPEndPoint)?.Address), ClientProperty("connection_name"));

    /// <summary>
    /// Waits until every publish limit on <paramref name="publishing"/> has a token for one publish, and takes
    /// them. Runs on the read loop, which reads no further frame meanwhile. False if the connection ended first.
    /// </summary>
    internal async Task<bool> WaitForPublishLimitAsync(ExchangePublishing publishing)
    {
        TrafficControl traffic = Traffic!;
        publishing.CountThrottled();
        BeginHeld(publishing, traffic);
        try
        {
            while (true)
            {
                Task changed = traffic.LimitsChanged;
                TimeSpan wait = publishing.TryAcquire();
                if (wait == TimeSpan.Zero)
                {
                    return true;
                }

                // The transport's close too: the read loop, which would notice a client that went, is the one waiting.
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, _transport.ConnectionClosed);
                await Task.WhenAny(Task.Delay(wait, _timeProvider, delay.Token), changed).ConfigureAwait(false);
                bool ended = delay.IsCancellationRequested;
                await delay.CancelAsync().ConfigureAwait(false);   // the delay's timer goes when a change won
                if (ended)
                {
                    return false;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return false;   // the connection finished meanwhile
        }
        finally
        {
            EndHeld(publishing);
        }
    }

    /// <summary>A new state was applied: a held connection that is not waiting is released at once if its limit went.</summary>
    internal void OnPublishLimitsChanged()
    {
        lock (_blockLock)
        {
            if (_blocked && !_waitingForPublishLimit && _heldBy is { IsLimited: false })
            {
                ReleaseLocked();
            }
        }
    }

    private void BeginHeld(ExchangePublishing publishing, TrafficControl traffic)
    {
        lock (_blockLock)
        {
            _waitingForPublishLimit = true;
            _heldBy = publishing;
            _releaseTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (_blocked)
            {
                return;
            }

            _blocked = true;
            _blockedSince = _timeProvider.GetTimestamp();
            traffic.ConnectionBlocked(this);
            AmqpConnectionLog.HeldByPublishLimit(_logger, Id, Remote, publishing.VirtualHost.Name, publishing.Exchange);
            if (ClientHasCapability("connection.blocked"))
            {
                _ = Output.Enqueue(static (output, reason) => FrameWriter.WriteMethod(output, 0, new ConnectionBlocked(reason)), PublishLimitReason);
            }
        }
    }

    private void EndHeld(ExchangePublishing publishing)
    {
        lock (_blockLock)
        {
            _waitingForPublishLimit = false;
            _lastWaitEnded = _timeProvider.GetTimestamp();

            // The client's frames (its heartbeats too) waited in the socket: the silence was ours.
            NoteFrameReceived();
            if (!_blocked)
            {
                return;   // released by the connection's end
            }

            if (!publishing.IsLimited)
            {
                ReleaseLocked();   // the limit was lifted
                return;
            }

            _releaseTimer ??= _timeProvider.CreateTimer(static state => ((AmqpConnection)state!).OnReleaseTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _releaseTimer.Change(ReleaseAfterQuiet, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnReleaseTimer()
    {
        lock (_blockLock)
        {
            if (!_blocked || _waitingForPublishLimit)
            {
                return;
            }

            TimeSpan quiet = _timeProvider.GetElapsedTime(_lastWaitEnded);
            if (quiet < ReleaseAfterQuiet)
            {
                _releaseTimer?.Change(ReleaseAfterQuiet - quiet, Timeout.InfiniteTimeSpan);
                return;
            }

            ReleaseLocked();
        }
    }

    /// <summary>Under _blockLock: the connection is no longer held; connection.unblocked follows the blocked it answers.</summary>
    private void ReleaseLocked()
    {
        _blocked = false;
        Traffic?.ConnectionUnblocked(this);
        AmqpConnectionLog.ReleasedByPublishLimit(_logger, Id, Remote, (long)_timeProvider.GetElapsedTime(_blockedSince).TotalMilliseconds);
        if (ClientHasCapability("connection.blocked"))
        {
            _ = Output.Enqueue(static (output, _) => FrameWriter.WriteMethod(output, 0, default(ConnectionUnblocked)), 0);
        }
    }

    /// <summary>Teardown: a held connection stops counting as held; nothing more is sent.</summary>
    private void StopTrafficControl()
    {
        lock (_blockLock)
        {
            _releaseTimer?.Dispose();
            _releaseTimer = null;
            if (_blocked)
            {
                _blocked = false;
                Traffic?.ConnectionUnblocked(this);
            }
        }
    }
}
