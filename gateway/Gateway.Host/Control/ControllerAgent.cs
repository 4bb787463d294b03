using Controller.Contracts;
using Gateway.Server.Control;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Host.Control;

/// <summary>How often the agent talks to the controller and how it waits after a failure.</summary>
/// <param name="HeartbeatInterval">Between two heartbeats (default 1 s).</param>
/// <param name="StateWait">How long the controller may hold a state long poll before answering 304.</param>
/// <param name="RetryDelay">First wait before polling again after a failed poll; doubles up to <paramref name="MaxRetryDelay"/>.</param>
public sealed record ControllerAgentTiming(TimeSpan HeartbeatInterval, TimeSpan StateWait, TimeSpan RetryDelay, TimeSpan MaxRetryDelay)
{
    public static ControllerAgentTiming Default { get; } =
        new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2));
}

/// <summary>
/// The gateway's link to the controller (docs/control-agent.md). Two loops: heartbeats report what the
/// gateway serves every interval (rates from the <see cref="ITrafficControl"/>'s cumulative counters), and
/// a long poll of the node's desired state applies each new <see cref="ControlState"/> as soon as the
/// controller answers it. When the controller is lost the agent retries for ever and never clears the
/// state: the gateway keeps enforcing the last pauses and limits it was given.
/// </summary>
public sealed partial class ControllerAgent : BackgroundService
{
    private readonly ControllerClient _client;
    private readonly Func<ITrafficControl?> _trafficControl;
    private readonly Func<GatewayIdentity> _identity;
    private readonly ControllerAgentTiming _timing;
    private readonly ControllerAgentMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task _listening;
    private readonly Lock _wakeLock = new();
    private CancellationTokenSource? _wakeStatePoll;
    private volatile string? _appliedETag;
    private volatile string? _refusedETag;   // the last state that failed to apply, until one applies
    private string? _link;
    private readonly ControlStateFile? _stateFile;

    /// <param name="trafficControl">Resolved once the gateway listens, so the enforcement registered by whoever builds the gateway is the one used.</param>
    /// <param name="identity">Read once the gateway listens (the ports are known only then).</param>
    /// <param name="listening">Completes when the gateway's listeners are bound; the agent starts then.</param>
    public ControllerAgent(
        ControllerClient client,
        Func<ITrafficControl?> trafficControl,
        Func<GatewayIdentity> identity,
        ControllerAgentTiming timing,
        ControllerAgentMetrics metrics,
        ILogger logger,
        TimeProvider? time = null,
        Task? listening = null,
        ControlStateFile? stateFile = null)
    {
        _stateFile = stateFile;
        _client = client;
        _trafficControl = trafficControl;
        _identity = identity;
        _timing = timing;
        _metrics = metrics;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _listening = listening ?? Task.CompletedTask;
    }

    /// <summary>ETag of the state this agent applied last; null before the first.</summary>
    public string? AppliedETag => _appliedETag;

    public override void Dispose()
    {
        base.Dispose();
        _client.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _listening.WaitAsync(stoppingToken);
            if (_trafficControl() is not { } traffic)
            {
                LogNoTrafficControl(_logger);
                return;
            }

            // A state restored from the data directory at start is the one in force: the first poll asks whether it is still current.
            if (traffic.Current.ETag != ControlState.Empty.ETag)
            {
                _appliedETag ??= traffic.Current.ETag;
            }

            var identity = _identity();
            LogStarted(_logger, identity.NodeId, identity.AmqpEndpoint, _client.Current);
            await Task.WhenAll(HeartbeatLoopAsync(traffic, identity, stoppingToken), StateLoopAsync(traffic, identity.NodeId, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task HeartbeatLoopAsync(ITrafficControl traffic, GatewayIdentity identity, CancellationToken stoppingToken)
    {
        TrafficSnapshot? previous = null;
        bool snapshotFailing = false;
        using var timer = new PeriodicTimer(_timing.HeartbeatInterval, _time);
        do
        {
            GatewayReport report;
            try
            {
                var current = traffic.Snapshot();
                report = TrafficReports.Build(identity, _appliedETag, previous, current);
                previous = current;
                snapshotFailing = false;
            }
            catch (Exception e)
            {
                // The gateway's fault, not the controller's: logged once, and the next tick tries again.
                if (!snapshotFailing)
                {
                    LogSnapshotFailed(_logger, e);
                    snapshotFailing = true;
                }

                continue;
            }

            try
            {
                var reply = await _client.HeartbeatAsync(report, stoppingToken);
                OnControllerAnswered(reply);
            }
            catch (ControllerException e)
            {
                OnControllerFailed(e.Status is { } status ? $"refused:{(int)status}" : "unreachable", e);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A malformed answer: the next tick tries again.
                OnControllerFailed("failed:" + e.GetType().Name, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private void OnControllerAnswered(HeartbeatReply reply)
    {
        string link = $"connected:{_client.Current}:{reply.ControllerId}";
        if (link != _link)
        {
            LogConnected(_logger, reply.ControllerId, _client.Current);
            _link = link;
        }

        _metrics.SetConnected(true);
        if (reply.ETag == _appliedETag)
        {
            _metrics.StateConfirmed();
        }
        else if (reply.ETag != _refusedETag)
        {
            // The controller has a state this gateway does not: poll now rather than wait for a poll that may
            // be held by an instance that is no longer the leader, or sleeping after a failure. Not for a state
            // that just failed to apply: its retry waits for the backoff.
            WakeStatePoll();
        }
    }

    /// <summary>Logs once per change of condition (not on every retry) and keeps the state in force.</summary>
    private void OnControllerFailed(string condition, Exception error)
    {
        _metrics.SetConnected(false);
        if (condition == _link)
        {
            return;
        }

        bool wasConnected = _link?.StartsWith("connected:", StringComparison.Ordinal) == true;
        _link = condition;
        if (error is ControllerException { Status: { } status })
        {
            LogRefused(_logger, (int)status, error.Message);
        }
        else if (wasConnected)
        {
            LogLost(_logger, error.Message, _appliedETag ?? "(none)");
        }
        else
        {
            LogUnreachable(_logger, error.Message);
        }
    }

    private async Task StateLoopAsync(ITrafficControl traffic, string nodeId, CancellationToken stoppingToken)
    {
        var retryDelay = _timing.RetryDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            lock (_wakeLock)
            {
                _wakeStatePoll = wake;
            }

            try
            {
                var state = await _client.GetStateAsync(nodeId, _appliedETag, _timing.StateWait, wake.Token);
                bool applied = true;
                if (state is not null && state.ETag != _appliedETag)
                {
                    applied = Apply(traffic, state);
                }
                else
                {
                    _metrics.StateConfirmed();
                }

                if (applied)
                {
                    retryDelay = _timing.RetryDelay;
                    continue;
                }

                // The controller answers at once with the state that failed: back off rather than spin on it.
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                continue;   // woken by a heartbeat that saw a newer state
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPollFailed(_logger, e.Message, (long)retryDelay.TotalMilliseconds);
            }
            finally
            {
                lock (_wakeLock)
                {
                    _wakeStatePoll = null;
                }
            }

            await SleepUnlessWokenAsync(retryDelay, stoppingToken);
            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _timing.MaxRetryDelay.Ticks));
        }
    }

    private bool Apply(ITrafficControl traffic, ControlState state)
    {
        try
        {
            traffic.Apply(state);
        }
        catch (Exception e)
        {
            // Not marked applied: the next poll, after the retry delay, brings the state again.
            LogApplyFailed(_logger, e, state.ETag);
            _refusedETag = state.ETag;
            return false;
        }

        _appliedETag = state.ETag;
        _refusedETag = null;
        _stateFile?.Save(state);
        _metrics.StateApplied();
        _metrics.StateConfirmed();
        LogApplied(_logger, state.ETag, state.Pauses.Count, state.ConsumeLimits.Count, state.PublishLimits.Count);
        return true;
    }

    private async Task SleepUnlessWokenAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        lock (_wakeLock)
        {
            _wakeStatePoll = wake;
        }

        try
        {
            await Task.Delay(delay, _time, wake.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_wakeLock)
            {
                _wakeStatePoll = null;
            }
        }
    }

    private void WakeStatePoll()
    {
        CancellationTokenSource? wake;
        lock (_wakeLock)
        {
            wake = _wakeStatePoll;
        }

        // Outside the lock: cancelling runs the poll's continuation, which takes the lock to clear the field.
        try
        {
            wake?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That poll ended meanwhile; the next one asks with the applied ETag anyway.
        }
    }

    [LoggerMessage(3001, LogLevel.Information, "Control agent started as node {NodeId} (AMQP endpoint {AmqpEndpoint}); first controller {Controller}")]
    private static partial void LogStarted(ILogger logger, string nodeId, string amqpEndpoint, Uri controller);

    [LoggerMessage(3002, LogLevel.Information, "Connected to controller {ControllerId} at {Url} (leader)")]
    private static partial void LogConnected(ILogger logger, string controllerId, Uri url);

    [LoggerMessage(3003, LogLevel.Warning, "Lost the controller ({Reason}); state {ETag} stays in force while the agent retries")]
    private static partial void LogLost(ILogger logger, string reason, string eTag);

    [LoggerMessage(3004, LogLevel.Warning, "No controller leader reachable ({Reason}); the agent keeps retrying")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(3005, LogLevel.Error, "The controller refused the heartbeat with {Status}: {Reason} (check --controller-token and --node-id)")]
    private static partial void LogRefused(ILogger logger, int status, string reason);

    [LoggerMessage(3006, LogLevel.Information, "Applied control state {ETag} ({Pauses} pauses, {ConsumeLimits} consume limits, {PublishLimits} publish limits)")]
    private static partial void LogApplied(ILogger logger, string eTag, int pauses, int consumeLimits, int publishLimits);

    [LoggerMessage(3007, LogLevel.Error, "Applying control state {ETag} failed; the previous state stays in force")]
    private static partial void LogApplyFailed(ILogger logger, Exception error, string eTag);

    [LoggerMessage(3008, LogLevel.Debug, "Polling the control state failed ({Reason}); again in {DelayMs} ms")]
    private static partial void LogPollFailed(ILogger logger, string reason, long delayMs);

    [LoggerMessage(3010, LogLevel.Error, "Taking the gateway's traffic snapshot for a heartbeat failed; heartbeats resume when it works again")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception error);

    [LoggerMessage(3009, LogLevel.Error, "--controller is set but this gateway has no ITrafficControl registered: the control agent does not run")]
    private static partial void LogNoTrafficControl(ILogger logger);
}
