using System.Collections.Concurrent;
using Controller.Contracts;
using Gateway.Broker.Topology;
using Gateway.Broker.Traffic;
using Gateway.Server.Connections;
using Gateway.Server.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Server.Control;

/// <summary>
/// Enforces the controller's <see cref="ControlState"/> in this gateway (docs/traffic-control.md): pauses and
/// consume-limit shares go to the dispatch point (<see cref="TopologyService.ApplyConsumeControls"/>), publish-limit
/// shares to the publish path (<see cref="ExchangePublishing"/>, waited on by <see cref="AmqpConnection"/>'s read
/// loop). Until a state is applied nothing is limited and the message paths pay only null checks.
/// </summary>
public sealed partial class TrafficControl : ITrafficControl
{
    private readonly GatewayMetrics _metrics;
    private readonly TopologyService? _topology;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TrafficMetrics _trafficMetrics;

    // Apply runs one at a time, and creating a publishing entry takes the same lock so that it starts with the
    // limit in force (an entry made while Apply runs would otherwise miss it).
    private readonly Lock _applyLock = new();

    /// <summary>A table this large is swept of idle exchanges before it takes another one.</summary>
    internal const int SweepAtExchanges = 1024;
    private readonly ConcurrentDictionary<string, VirtualHostPublishing> _virtualHosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string VirtualHost, string Exchange), ExchangePublishing> _exchanges = new();
    private readonly ConcurrentDictionary<AmqpConnection, byte> _blocked = new();
    private volatile ControlState _current = ControlState.Empty;
    private volatile TaskCompletionSource _limitsChanged = NewSignal();

    public TrafficControl(GatewayMetrics metrics, TimeProvider? time = null, ILogger<TrafficControl>? logger = null, TopologyService? topology = null)
    {
        _metrics = metrics;
        _topology = topology;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<TrafficControl>.Instance;
        _trafficMetrics = new TrafficMetrics(metrics.Registry, this);
    }

    public ControlState Current => _current;

    /// <summary>Connections held by a publish limit now (from their first wait until connection.unblocked).</summary>
    public int BlockedConnections => _blocked.Count;

    /// <summary>Completes when the next state is applied: a publisher waiting for a token looks again at once.</summary>
    internal Task LimitsChanged => _limitsChanged.Task;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    public void Apply(ControlState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_applyLock)
        {
            int pauses = ApplyConsumeControls(state);
            ApplyPublishLimits(state);
            _current = state;
            Interlocked.Exchange(ref _limitsChanged, NewSignal()).TrySetResult();
            foreach (AmqpConnection connection in _blocked.Keys)
            {
                connection.OnPublishLimitsChanged();
            }

            TrafficControlLog.StateApplied(_logger, state.ETag, pauses, state.ConsumeLimits.Count, state.PublishLimits.Count);
        }
    }

    public TrafficSnapshot Snapshot()
    {
        var queues = new List<QueueTraffic>();
        var consumers = new List<ConsumerTraffic>();
        foreach (ServedQueue served in _topology?.ServedQueues() ?? [])
        {
            var dispatch = served.Dispatch;
            QueueMetrics.TryReadCounts(_topology!, served, out long ready, out long unacknowledged);
            queues.Add(new QueueTraffic(
                served.VirtualHost,
                served.Name,
                ready,
                unacknowledged,
                dispatch.ConsumerCount,
                dispatch.AppendedCount,
                dispatch.DeliveredCount,
                dispatch.AcknowledgedCount,
                dispatch.RedeliveredCount,
                dispatch.IsPausedForEveryone,
                dispatch.ConsumeLimitPerSecond));
            foreach (var consumer in dispatch.Consumers)
            {
                var client = consumer.Channel.Client;
                consumers.Add(new ConsumerTraffic(
                    client.ConnectionNumber,
                    served.VirtualHost,
                    served.Name,
                    consumer.Tag,
                    client.Address?.ToString() ?? string.Empty,
                    client.ConnectionName,
                    consumer.Channel.Number,
                    consumer.Prefetch,
                    consumer.UnackedCount,
                    consumer.DeliveredCount,
                    dispatch.IsPausedForEveryone || consumer.IsPausedByControl));
            }
        }

        var publishing = _exchanges.Values
            .Select(e => new PublishTraffic(e.VirtualHost.Name, e.Exchange, e.Published, e.ThrottledWaits))
            .ToList();
        SweepIdleExchanges();
        return new TrafficSnapshot(
            _time.GetUtcNow(),
            (int)_metrics.OpenConnections,
            (int)_metrics.OpenChannels,
            queues,
            consumers,
            publishing);
    }

    /// <summary>Where a basic.publish to <paramref name="exchange"/> of <paramref name="virtualHost"/> counts and is limited.</summary>
    internal ExchangePublishing ForExchange(string virtualHost, string exchange)
    {
        if (_exchanges.TryGetValue((virtualHost, exchange), out ExchangePublishing? known))
        {
            return known;
        }

        lock (_applyLock)
        {
            if (_exchanges.Count >= SweepAtExchanges)
            {
                SweepIdleExchanges();
            }

            return _exchanges.GetOrAdd((virtualHost, exchange), key =>
            {
                var created = new ExchangePublishing(ForVirtualHost(key.VirtualHost), key.Exchange);
                created.Limit = NewLimit(null, ShareFor(_current, key.VirtualHost, key.Exchange));
                return created;
            });
        }
    }

    /// <summary>
    /// Forgets the exchanges nobody published to since the previous sweep and that have no limit of their own:
    /// every name a client ever published to (deleted exchanges, per-request ones, names that were never declared
    /// and got a 404) would otherwise stay in the table and in every heartbeat. Runs at each heartbeat's snapshot
    /// and whenever the table grows past <see cref="SweepAtExchanges"/>.
    /// </summary>
    private void SweepIdleExchanges()
    {
        lock (_applyLock)
        {
            foreach (var (key, entry) in _exchanges)
            {
                if (entry.RetireIfIdle())
                {
                    _exchanges.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>The current publish limits, for the limit gauges: (vhost, exchange or null for vhost-wide, per second).</summary>
    internal IEnumerable<(string VirtualHost, string? Exchange, double PerSecond)> PublishLimits()
    {
        foreach (VirtualHostPublishing virtualHost in _virtualHosts.Values)
        {
            if (virtualHost.Limit is { } limit)
            {
                yield return (virtualHost.Name, null, limit.RatePerSecond);
            }
        }

        foreach (ExchangePublishing exchange in _exchanges.Values)
        {
            if (exchange.Limit is { } limit)
            {
                yield return (exchange.VirtualHost.Name, exchange.Exchange, limit.RatePerSecond);
            }
        }
    }

    internal void ConnectionBlocked(AmqpConnection connection) => _blocked.TryAdd(connection, 0);

    internal void ConnectionUnblocked(AmqpConnection connection) => _blocked.TryRemove(connection, out _);

    private int ApplyConsumeControls(ControlState state)
    {
        var pauses = new Dictionary<(string VirtualHost, string Queue), List<PauseScope>>();
        int applied = 0;
        foreach (PauseRule rule in state.Pauses)
        {
            PauseScope scope;
            try
            {
                scope = PauseScope.Parse(rule.ClientAddress, rule.ConnectionName);
            }
            catch (FormatException ex)
            {
                // Skipped rather than widened to every client: pausing consumers nobody meant to pause is worse.
                TrafficControlLog.PauseRuleIgnored(_logger, rule.Id, rule.VHost, rule.Queue, ex.Message);
                continue;
            }

            var key = (rule.VHost, rule.Queue);
            if (!pauses.TryGetValue(key, out List<PauseScope>? scopes))
            {
                pauses[key] = scopes = [];
            }

            scopes.Add(scope);
            applied++;
        }

        var limits = new Dictionary<(string VirtualHost, string Queue), double>();
        foreach (ConsumeLimitShare share in state.ConsumeLimits)
        {
            var key = (share.VHost, share.Queue);
            // Two shares for one queue should not happen; the lower one is the safe reading.
            limits[key] = limits.TryGetValue(key, out double other) ? Math.Min(other, share.SharePerSecond) : share.SharePerSecond;
        }

        var controls = new Dictionary<(string VirtualHost, string Queue), ConsumeControl>();
        foreach (var key in pauses.Keys.Union(limits.Keys))
        {
            controls[key] = new ConsumeControl(
                pauses.GetValueOrDefault(key) ?? [],
                limits.TryGetValue(key, out double perSecond) ? perSecond : null);
        }

        _topology?.ApplyConsumeControls(controls);
        return applied;
    }

    private void ApplyPublishLimits(ControlState state)
    {
        foreach (PublishLimitShare share in state.PublishLimits)
        {
            // Entries for limited vhosts and exchanges exist before anyone publishes, so the gauges show the limit.
            ForVirtualHost(share.VHost);
            if (share.Exchange is { } exchange)
            {
                _exchanges.GetOrAdd((share.VHost, exchange), key => new ExchangePublishing(ForVirtualHost(key.VirtualHost), key.Exchange));
            }
        }

        foreach (VirtualHostPublishing virtualHost in _virtualHosts.Values)
        {
            virtualHost.Limit = NewLimit(virtualHost.Limit, ShareFor(state, virtualHost.Name, exchange: null));
        }

        foreach (ExchangePublishing exchange in _exchanges.Values)
        {
            exchange.Limit = NewLimit(exchange.Limit, ShareFor(state, exchange.VirtualHost.Name, exchange.Exchange));
        }
    }

    private static double? ShareFor(ControlState state, string virtualHost, string? exchange)
    {
        double? lowest = null;
        foreach (PublishLimitShare share in state.PublishLimits)
        {
            if (share.VHost == virtualHost && share.Exchange == exchange)
            {
                lowest = Math.Min(lowest ?? double.MaxValue, share.SharePerSecond);
            }
        }

        return lowest;
    }

    /// <summary>The bucket for a limit: none without one, the same one at a new rate (tokens kept), or a new one.</summary>
    private TokenBucket? NewLimit(TokenBucket? existing, double? perSecond)
    {
        if (perSecond is not { } rate)
        {
            return null;
        }

        if (existing is not null)
        {
            existing.SetRate(rate);
            return existing;
        }

        return new TokenBucket(rate, _time);
    }

    private VirtualHostPublishing ForVirtualHost(string virtualHost) =>
        _virtualHosts.GetOrAdd(virtualHost, name => new VirtualHostPublishing(name, _trafficMetrics.Throttled(name)));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class TrafficControlLog
    {
        [LoggerMessage(3001, LogLevel.Information, "Control state {ETag} applied: {Pauses} pauses, {ConsumeLimits} consume limits, {PublishLimits} publish limits")]
        public static partial void StateApplied(ILogger logger, string etag, int pauses, int consumeLimits, int publishLimits);

        [LoggerMessage(3002, LogLevel.Warning, "Pause rule {RuleId} on queue '{Queue}' in vhost '{VirtualHost}' ignored: {Reason}")]
        public static partial void PauseRuleIgnored(ILogger logger, string ruleId, string virtualHost, string queue, string reason);
    }
}
