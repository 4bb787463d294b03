using System.Text.Json;
using Controller.Contracts;
using Controller.Service.Hosting;
using Controller.Service.Logging;
using Controller.Service.Store;
using Microsoft.EntityFrameworkCore;

namespace Controller.Service.Cluster;

/// <summary>A registered gateway as the leader knows it: its last report and when it came.</summary>
internal sealed record NodeEntry(GatewayReport Report, DateTimeOffset LastSeen, bool Live, NodeLoad Load)
{
    public string NodeId => Report.NodeId;
}

/// <summary>What an admin change did: the rule now in force and whether the call created it.</summary>
internal readonly record struct Upserted<T>(T Value, bool Created);

/// <summary>
/// The leader's working state: the rules (persisted first, then kept in memory), the node registry, and the
/// desired state of every node derived from both. Changes that alter any node's desired state, and changes of
/// node membership, fire <see cref="Changes"/> so waiting long polls answer at once. A standby holds nothing:
/// <see cref="LoadAsync"/> reads everything from the database when this instance becomes leader, and
/// <see cref="Clear"/> drops it when it steps down.
/// </summary>
internal sealed class ClusterState(ControllerStore store, ControllerOptions options, TimeProvider time, ILogger<ClusterState> logger)
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _adminWrites = new(1, 1);
    private readonly Dictionary<string, NodeEntry> _nodes = new(StringComparer.Ordinal);
    private RuleSet _rules = RuleSet.Empty;
    private DesiredStates _desired = DesiredStates.Build(RuleSet.Empty, []);
    private LeaderTerm? _term;
    private long _heartbeats;

    public ChangeSignal Changes { get; } = new();

    /// <summary>The term this state was loaded for; null on a standby.</summary>
    public LeaderTerm? Term
    {
        get
        {
            lock (_gate)
            {
                return _term;
            }
        }
    }

    public long HeartbeatCount => Interlocked.Read(ref _heartbeats);

    public RuleSet Rules
    {
        get
        {
            lock (_gate)
            {
                return _rules;
            }
        }
    }

    /// <summary>Reads rules and nodes for a new leader term and starts serving them.</summary>
    public async Task<(RuleSet Rules, int Nodes)> LoadAsync(LeaderTerm term, CancellationToken cancellationToken)
    {
        // Not while an admin change is between its database write and its memory update: the change could be lost
        // from memory, or counted twice.
        RuleSet rules;
        int nodeCount;
        using (await HoldAdminWritesAsync(cancellationToken))
        {
            var (pauses, consume, publish) = await store.LoadRulesAsync(cancellationToken);
            var nodes = await store.LoadNodesAsync(cancellationToken);
            rules = new RuleSet(
                pauses.Select(ToContract),
                consume.Select(l => new ConsumeLimit(l.VHost, l.Queue, l.MessagesPerSecond)),
                publish.Select(ToContract));
            nodeCount = nodes.Count;
            var now = time.GetUtcNow();
            lock (_gate)
            {
                _nodes.Clear();
                foreach (var row in nodes)
                {
                    var (report, load) = ReadReport(row);
                    _nodes[row.NodeId] = new NodeEntry(report, row.LastSeen, now - row.LastSeen < options.NodeTimeout, load);
                }

                _rules = rules;
                _term = term;
                RebuildLocked();
            }
        }

        Changes.Fire();
        return (rules, nodeCount);
    }

    /// <summary>Forgets everything (this instance is no longer leader) and wakes the long polls, which then answer as a standby.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _term = null;
            _nodes.Clear();
            _rules = RuleSet.Empty;
            RebuildLocked();
        }

        Changes.Fire();
    }

    public ControlState StateFor(string nodeId)
    {
        lock (_gate)
        {
            return _desired.For(nodeId);
        }
    }

    /// <summary>
    /// Registers or refreshes a node: persists its report, then updates the registry and, when shares move, the
    /// desired states. <paramref name="report"/> has passed <see cref="ReportChecks.Validate"/>.
    /// </summary>
    public async Task<HeartbeatReply> HeartbeatAsync(GatewayReport report, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Indexed before the row is written: a report that cannot be counted must fail here, not stay in the table.
        var load = NodeLoad.From(report);
        await store.SaveNodeAsync(
            new NodeRow
            {
                NodeId = report.NodeId,
                AmqpEndpoint = report.AmqpEndpoint,
                MetricsUrl = report.MetricsUrl,
                StartedAt = report.StartedAt.ToUniversalTime(),
                LastSeen = now,
                LastReport = JsonSerializer.Serialize(report, Json.GatewayReport),
            },
            cancellationToken);
        Interlocked.Increment(ref _heartbeats);

        bool wake;
        string etag;
        lock (_gate)
        {
            if (_term is null)
            {
                // The term ended while the row was written: the next leader reads the node from the database.
                throw new NotLeaderException("this instance stopped leading during the heartbeat");
            }

            _nodes.TryGetValue(report.NodeId, out var previous);
            _nodes[report.NodeId] = new NodeEntry(report, now, Live: true, load);
            bool membershipChanged = previous is not { Live: true };
            if (previous is null)
            {
                ControllerLog.NodeRegistered(logger, report.NodeId, report.AmqpEndpoint);
            }
            else if (!previous.Live)
            {
                ControllerLog.NodeReturned(logger, report.NodeId, report.AmqpEndpoint);
            }

            wake = RebuildLocked() || membershipChanged;
            etag = _desired.For(report.NodeId).ETag;
        }

        if (wake)
        {
            Changes.Fire();
        }

        return new HeartbeatReply(options.EffectiveInstanceId, etag);
    }

    /// <summary>Marks nodes whose heartbeats stopped for longer than the node timeout as lost (they stay listed, not live).</summary>
    public void SweepLiveness()
    {
        var now = time.GetUtcNow();
        bool changed = false;
        lock (_gate)
        {
            foreach (var node in _nodes.Values.Where(n => n.Live && now - n.LastSeen >= options.NodeTimeout).ToList())
            {
                _nodes[node.NodeId] = node with { Live = false };
                ControllerLog.NodeLost(logger, node.NodeId, node.LastSeen, options.NodeTimeout);
                changed = true;
            }

            if (changed)
            {
                RebuildLocked();
            }
        }

        if (changed)
        {
            Changes.Fire();
        }
    }

    public async Task<Upserted<PauseRule>> PauseAsync(PauseRequest request, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        var existing = rules.Pauses.FirstOrDefault(p =>
            p.VHost == request.VHost && p.Queue == request.Queue && p.ClientAddress == request.ClientAddress && p.ConnectionName == request.ConnectionName);
        if (existing is not null)
        {
            return new(existing, Created: false);
        }

        // Milliseconds: what every provider stores exactly, so the rule (and the ETag over it) reads back equal after a fail-over.
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var rule = new PauseRule(Guid.NewGuid().ToString("N")[..16], request.VHost, request.Queue, request.ClientAddress, request.ConnectionName, createdAt);
        await store.WriteAsLeaderAsync(
            term,
            (db, _) =>
            {
                db.PauseRules.Add(new PauseRuleRow
                {
                    Id = rule.Id, VHost = rule.VHost, Queue = rule.Queue, ClientAddress = rule.ClientAddress,
                    ConnectionName = rule.ConnectionName, CreatedAt = rule.CreatedAt,
                });
                return Task.CompletedTask;
            },
            cancellationToken);
        Apply(term, r => r.With(pauses: r.Pauses.Where(p => p.Id != rule.Id).Append(rule)));
        return new(rule, Created: true);
    }

    /// <summary>Removes the queue's pause rules whose scope matches every given scope field (all of them when none is given).</summary>
    public async Task<IReadOnlyList<PauseRule>> ResumeAsync(
        string vhost, string queue, (bool Given, string? Value) clientAddress, (bool Given, string? Value) connectionName, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        var removed = rules.Pauses
            .Where(p => p.VHost == vhost && p.Queue == queue)
            .Where(p => !clientAddress.Given || p.ClientAddress == clientAddress.Value)
            .Where(p => !connectionName.Given || p.ConnectionName == connectionName.Value)
            .ToList();
        if (removed.Count == 0)
        {
            return removed;
        }

        var ids = removed.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        await store.WriteAsLeaderAsync(
            term,
            async (db, ct) => db.PauseRules.RemoveRange(await db.PauseRules.Where(p => ids.Contains(p.Id)).ToListAsync(ct)),
            cancellationToken);
        Apply(term, r => r.With(pauses: r.Pauses.Where(p => !ids.Contains(p.Id))));
        return removed;
    }

    public async Task<Upserted<ConsumeLimit>> SetConsumeLimitAsync(ConsumeLimit limit, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        bool created = !rules.ConsumeLimits.Any(l => l.VHost == limit.VHost && l.Queue == limit.Queue);
        var now = time.GetUtcNow();
        await store.WriteAsLeaderAsync(
            term,
            async (db, ct) =>
            {
                var row = await db.ConsumeLimits.FindAsync([limit.VHost, limit.Queue], ct);
                if (row is null)
                {
                    db.ConsumeLimits.Add(new ConsumeLimitRow { VHost = limit.VHost, Queue = limit.Queue, MessagesPerSecond = limit.MessagesPerSecond, UpdatedAt = now });
                }
                else
                {
                    row.MessagesPerSecond = limit.MessagesPerSecond;
                    row.UpdatedAt = now;
                }
            },
            cancellationToken);
        Apply(term, r => r.With(consumeLimits: r.ConsumeLimits.Where(l => !(l.VHost == limit.VHost && l.Queue == limit.Queue)).Append(limit)));
        return new(limit, created);
    }

    public async Task<bool> RemoveConsumeLimitAsync(string vhost, string queue, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        if (!rules.ConsumeLimits.Any(l => l.VHost == vhost && l.Queue == queue))
        {
            return false;
        }

        await store.WriteAsLeaderAsync(
            term,
            async (db, ct) => db.ConsumeLimits.RemoveRange(await db.ConsumeLimits.Where(l => l.VHost == vhost && l.Queue == queue).ToListAsync(ct)),
            cancellationToken);
        Apply(term, r => r.With(consumeLimits: r.ConsumeLimits.Where(l => !(l.VHost == vhost && l.Queue == queue))));
        return true;
    }

    public async Task<Upserted<PublishLimit>> SetPublishLimitAsync(PublishLimit limit, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        bool created = !rules.PublishLimits.Any(l => l.VHost == limit.VHost && l.Exchange == limit.Exchange);
        var now = time.GetUtcNow();
        var (scope, exchange) = Key(limit.Exchange);
        await store.WriteAsLeaderAsync(
            term,
            async (db, ct) =>
            {
                var row = await db.PublishLimits.FindAsync([limit.VHost, scope, exchange], ct);
                if (row is null)
                {
                    db.PublishLimits.Add(new PublishLimitRow { VHost = limit.VHost, Scope = scope, Exchange = exchange, MessagesPerSecond = limit.MessagesPerSecond, UpdatedAt = now });
                }
                else
                {
                    row.MessagesPerSecond = limit.MessagesPerSecond;
                    row.UpdatedAt = now;
                }
            },
            cancellationToken);
        Apply(term, r => r.With(publishLimits: r.PublishLimits.Where(l => !(l.VHost == limit.VHost && l.Exchange == limit.Exchange)).Append(limit)));
        return new(limit, created);
    }

    public async Task<bool> RemovePublishLimitAsync(string vhost, string? exchange, CancellationToken cancellationToken)
    {
        using var admin = await HoldAdminWritesAsync(cancellationToken);
        var (term, rules) = Current();
        if (!rules.PublishLimits.Any(l => l.VHost == vhost && l.Exchange == exchange))
        {
            return false;
        }

        var (scope, key) = Key(exchange);
        await store.WriteAsLeaderAsync(
            term,
            async (db, ct) => db.PublishLimits.RemoveRange(
                await db.PublishLimits.Where(l => l.VHost == vhost && l.Scope == scope && l.Exchange == key).ToListAsync(ct)),
            cancellationToken);
        Apply(term, r => r.With(publishLimits: r.PublishLimits.Where(l => !(l.VHost == vhost && l.Exchange == exchange))));
        return true;
    }

    /// <summary>Every registered node, live and lost, sorted by id, with whether it enforces its current state.</summary>
    public IReadOnlyList<(NodeEntry Node, bool InSync)> Nodes()
    {
        lock (_gate)
        {
            return [.. _nodes.Values
                .OrderBy(n => n.NodeId, StringComparer.Ordinal)
                .Select(n => (n, n.Report.AppliedETag == _desired.For(n.NodeId).ETag))];
        }
    }

    public IReadOnlyList<NodeEntry> LiveNodes()
    {
        lock (_gate)
        {
            return [.. _nodes.Values.Where(n => n.Live).OrderBy(n => n.NodeId, StringComparer.Ordinal)];
        }
    }

    private (LeaderTerm Term, RuleSet Rules) Current()
    {
        lock (_gate)
        {
            return (_term ?? throw new NotLeaderException("this instance is not the leader"), _rules);
        }
    }

    /// <summary>Puts a persisted change into memory, unless the term ended meanwhile (the next leader reads it from the database).</summary>
    private void Apply(LeaderTerm term, Func<RuleSet, RuleSet> change)
    {
        lock (_gate)
        {
            if (_term != term)
            {
                return;
            }

            _rules = change(_rules);
            RebuildLocked();
        }

        Changes.Fire();
    }

    /// <summary>
    /// Recomputes the desired states after a rule or node change. Returns true when some node's state may differ:
    /// the rules changed, or some limit's active nodes or weights did. A heartbeat that only updates rates and
    /// counts keeps the current states (and their cached answers) and wakes nobody.
    /// </summary>
    private bool RebuildLocked()
    {
        var next = DesiredStates.Build(_rules, [.. _nodes.Values.Where(n => n.Live).Select(n => n.Load)]);
        if (ReferenceEquals(next.Rules, _desired.Rules) && next.SharesFingerprint == _desired.SharesFingerprint)
        {
            return false;
        }

        _desired = next;
        return true;
    }

    private static (string Scope, string Exchange) Key(string? exchange) =>
        exchange is null ? (PublishLimitRow.VHostScope, "") : (PublishLimitRow.ExchangeScope, exchange);

    private static PauseRule ToContract(PauseRuleRow row) =>
        new(row.Id, row.VHost, row.Queue, row.ClientAddress, row.ConnectionName, row.CreatedAt.ToUniversalTime());

    private static PublishLimit ToContract(PublishLimitRow row) =>
        new(row.VHost, row.Scope == PublishLimitRow.VHostScope ? null : row.Exchange, row.MessagesPerSecond);

    /// <summary>
    /// The stored report and its load. A row whose report cannot be read or counted (written by another version,
    /// by hand, or before reports were checked) keeps only its columns, with a warning: one bad row must never stop
    /// a new leader from loading, or no instance could lead again.
    /// </summary>
    private (GatewayReport Report, NodeLoad Load) ReadReport(NodeRow row)
    {
        try
        {
            if (JsonSerializer.Deserialize(row.LastReport, Json.GatewayReport) is { } stored)
            {
                var report = ReportChecks.Validate(stored with { NodeId = row.NodeId });
                return (report, NodeLoad.From(report));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ControllerLog.StoredReportUnreadable(logger, row.NodeId, e.Message);
        }

        var empty = new GatewayReport(row.NodeId, row.AmqpEndpoint, row.MetricsUrl, row.StartedAt, null, 0, 0, [], [], []);
        return (empty, NodeLoad.From(empty));
    }

    /// <summary>One admin write at a time: each reads the rules in force, writes, then applies (see its callers).</summary>
    private async Task<AdminWriteHold> HoldAdminWritesAsync(CancellationToken cancellationToken)
    {
        await _adminWrites.WaitAsync(cancellationToken);
        return new AdminWriteHold(_adminWrites);
    }

    private readonly struct AdminWriteHold(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
