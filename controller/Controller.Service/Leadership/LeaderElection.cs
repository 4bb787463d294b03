using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Service.Hosting;
using Controller.Service.Logging;
using Controller.Service.Store;

namespace Controller.Service.Leadership;

/// <summary>
/// Leader election through the lease row (<see cref="ControllerStore.TryAcquireLeaseAsync"/>): every third of
/// the lease this instance takes the lease if it has expired or renews it if it is its own. An instance leads
/// from the moment it has loaded the state (<see cref="ClusterState.LoadAsync"/>) until its local deadline: the
/// time it *sent* its last successful renewal plus the lease length. That deadline always falls before the
/// lease's expiry in the database (which counts from when the database ran the renewal), so a leader that cannot
/// renew (database unreachable, process stalled) stops answering as leader before a standby can take over: no
/// two instances serve at once, whatever their wall clocks say.
/// </summary>
internal sealed class LeaderElection : BackgroundService
{
    private readonly ControllerStore _store;
    private readonly ClusterState _cluster;
    private readonly ControllerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LeaderElection> _logger;
    private readonly ITimer _stepDownTimer;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private bool _leading;
    private long _deadline;
    private long _epoch;
    private string? _leaderId;
    private string? _leaderUrl;
    private DateTimeOffset? _expiresAt;
    private string? _followedLeader;
    private volatile bool _frozen;

    public LeaderElection(ControllerStore store, ClusterState cluster, ControllerOptions options, TimeProvider time, ILogger<LeaderElection> logger)
    {
        _store = store;
        _cluster = cluster;
        _options = options;
        _time = time;
        _logger = logger;
        InstanceId = options.EffectiveInstanceId;
        _stepDownTimer = time.CreateTimer(_ => OnDeadline(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public string InstanceId { get; }

    /// <summary>Where this instance says it can be reached; set once the server listens.</summary>
    public string AdvertiseUrl { get; private set; } = "";

    /// <summary>True while this instance holds the lease, has loaded the state, and its local deadline has not passed.</summary>
    public bool IsLeader
    {
        get
        {
            lock (_gate)
            {
                return _leading && _time.GetTimestamp() < _deadline;
            }
        }
    }

    /// <summary>The leader as last seen in the lease row (null while nobody holds an unexpired lease), its epoch and expiry.</summary>
    public (string? LeaderId, string? LeaderUrl, long Epoch, DateTimeOffset? ExpiresAt) Lease
    {
        get
        {
            lock (_gate)
            {
                return (_leaderId, _leaderUrl, _epoch, _expiresAt);
            }
        }
    }

    /// <summary>Starts electing once the server listens (the advertised URL needs the bound port).</summary>
    public void OnServerStarted(string advertiseUrl)
    {
        AdvertiseUrl = advertiseUrl;
        _started.TrySetResult();
    }

    /// <summary>
    /// Tests: stops renewing and acquiring, as a stalled process would, while requests are still answered, so the
    /// step-down at the local deadline and the standby's take-over can be observed.
    /// </summary>
    internal void Freeze() => _frozen = true;

    /// <summary>Tests: runs right before a step takes the lead, so a step-down can be made to land exactly there.</summary>
    internal Func<Task>? BeforeTakingLead { get; set; }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        long epoch;
        lock (_gate)
        {
            if (!_leading)
            {
                return;
            }

            epoch = _epoch;
        }

        StepDown("shutting down");
        if (_frozen)
        {
            return;
        }

        // Hand over at once instead of making the standby wait out the lease; best effort, the lease expires anyway.
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.LeaseDuration);
            await _store.ReleaseLeaseAsync(InstanceId, timeout.Token);
            ControllerLog.LeaseReleased(_logger, InstanceId, epoch);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ControllerLog.LeaseCheckFailed(_logger, $"could not release the lease: {e.Message}");
        }
    }

    public override void Dispose()
    {
        _stepDownTimer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _started.Task.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!_frozen)
            {
                await StepAsync(stoppingToken);
            }

            await Task.Delay(_options.LeaseRenewInterval, _time, stoppingToken);
        }
    }

    private async Task StepAsync(CancellationToken stoppingToken)
    {
        long sentAt = _time.GetTimestamp();
        LeaseObservation lease;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(_options.LeaseDuration);
            lease = await _store.TryAcquireLeaseAsync(InstanceId, AdvertiseUrl, _options.LeaseDuration, timeout.Token);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            // The deadline timer steps down if this goes on past the lease; until then the lease may still be ours.
            ControllerLog.LeaseCheckFailed(_logger, e.Message);
            return;
        }

        if (_frozen)
        {
            return;
        }

        lock (_gate)
        {
            _leaderId = lease.LiveHolderId;
            _leaderUrl = lease.LiveHolderId is null ? null : lease.HolderUrl;
            _epoch = lease.Epoch;
            _expiresAt = lease.ExpiresAt;
        }

        if (!lease.IsHeldBy(InstanceId))
        {
            StepDown($"the lease is held by {lease.LiveHolderId ?? "nobody"} (epoch {lease.Epoch})");
            if (lease.LiveHolderId is { } leader && leader != _followedLeader)
            {
                _followedLeader = leader;
                ControllerLog.FollowingLeader(_logger, InstanceId, leader, lease.HolderUrl, lease.Epoch);
            }

            return;
        }

        var term = new LeaderTerm(InstanceId, lease.Epoch);
        long deadline = sentAt + (long)(_options.LeaseDuration.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            if (_cluster.Term != term)
            {
                // A new term (or ours again after losing it): whatever is in memory may be stale; read it all.
                StepDown("a new lease term began");
                try
                {
                    var (rules, nodes) = await _cluster.LoadAsync(term, stoppingToken);
                    ControllerLog.BecameLeader(_logger, InstanceId, lease.Epoch, rules.Pauses.Length, rules.ConsumeLimits.Length, rules.PublishLimits.Length, nodes);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    _cluster.Clear();
                    ControllerLog.LeaseCheckFailed(_logger, $"could not load the state as new leader: {e.Message}");
                    return;
                }
            }

            if (BeforeTakingLead is { } hook)
            {
                await hook();
            }

            lock (_gate)
            {
                // Decided and changed in one step: a step-down clears the cluster under this lock too, so if the
                // state is still this term's here, it cannot be cleared before _leading is set. If it was cleared
                // since the check above (the deadline passed meanwhile), load it again rather than lead with nothing.
                if (_cluster.Term == term)
                {
                    _leading = true;
                    _deadline = deadline;
                    break;
                }
            }

            stoppingToken.ThrowIfCancellationRequested();
        }

        _followedLeader = null;
        var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
        _stepDownTimer.Change(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnDeadline()
    {
        TimeSpan remaining;
        long epoch = 0;
        lock (_gate)
        {
            if (!_leading)
            {
                return;
            }

            remaining = _time.GetElapsedTime(_time.GetTimestamp(), _deadline);
            if (remaining <= TimeSpan.Zero)
            {
                // Checked and acted on under one lock: a renewal that lands after the check waits for the lock and
                // then finds the state cleared (and loads it again), instead of being overruled by a stale check.
                epoch = StopLeadingLocked();
            }
        }

        if (remaining > TimeSpan.Zero)
        {
            // Renewed meanwhile, or the timer fired a little early (its clock is not the stopwatch's): look again then.
            _stepDownTimer.Change(remaining + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            return;
        }

        ControllerLog.SteppedDown(_logger, InstanceId, epoch, "the lease was not renewed in time");
    }

    private void StepDown(string reason)
    {
        long epoch;
        lock (_gate)
        {
            if (!_leading)
            {
                return;
            }

            epoch = StopLeadingLocked();
        }

        ControllerLog.SteppedDown(_logger, InstanceId, epoch, reason);
    }

    /// <summary>
    /// Ends leading and drops the state, both under <see cref="_gate"/>, so that taking the lead (which checks the
    /// state's term under the same lock) never sees the one without the other. The cluster's lock is only ever
    /// taken inside this one, never the other way round, and its change signal wakes waiters on the pool.
    /// </summary>
    private long StopLeadingLocked()
    {
        _leading = false;
        _cluster.Clear();
        return _epoch;
    }

    /// <summary>The body of a standby's 503.</summary>
    public StandbyProblem StandbyProblem()
    {
        var (leaderId, leaderUrl, _, _) = Lease;
        // Never name itself: a caller would come straight back here.
        return leaderId == InstanceId
            ? new StandbyProblem("standby", InstanceId, null, null)
            : new StandbyProblem("standby", InstanceId, leaderId, leaderUrl);
    }
}
