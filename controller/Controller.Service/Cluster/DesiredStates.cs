using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Controller.Contracts;

namespace Controller.Service.Cluster;

/// <summary>
/// Every node's desired state for one rule set and one picture of which nodes use which limit. Built when either
/// changes; each node's <see cref="ControlState"/> is worked out on first request and then kept. Every node gets
/// every pause rule (a gateway matches the client-address and connection-name scopes itself, since only it knows
/// its connections) and its share of every limit.
/// </summary>
internal sealed class DesiredStates
{
    private readonly ImmutableArray<ImmutableArray<ActiveNode>> _consumeActive;
    private readonly ImmutableArray<ImmutableArray<ActiveNode>> _publishActive;
    private readonly ConcurrentDictionary<string, ControlState> _states = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activeNodes;
    private ControlState? _outsiderState;

    private DesiredStates(RuleSet rules, ImmutableArray<ImmutableArray<ActiveNode>> consumeActive, ImmutableArray<ImmutableArray<ActiveNode>> publishActive)
    {
        Rules = rules;
        _consumeActive = consumeActive;
        _publishActive = publishActive;
        _activeNodes = [.. consumeActive.Concat(publishActive).SelectMany(active => active).Select(node => node.NodeId)];
        SharesFingerprint = Fingerprint(consumeActive, publishActive);
    }

    public RuleSet Rules { get; }

    /// <summary>
    /// The active nodes and weights of every limit, as text: two instances with equal rules and equal fingerprints
    /// give every node an equal state, so a heartbeat that leaves it unchanged needs to wake nobody.
    /// </summary>
    public string SharesFingerprint { get; }

    public static DesiredStates Build(RuleSet rules, IReadOnlyCollection<NodeLoad> liveNodes)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return new DesiredStates(
            rules,
            [.. rules.ConsumeLimits.Select(limit => Shares.ConsumeActive(limit, liveNodes))],
            [.. rules.PublishLimits.Select(limit => Shares.PublishActive(limit, liveNodes))]);
    }

    /// <summary>
    /// The state of <paramref name="nodeId"/>; a node that is unknown or not live is treated as one that uses no
    /// limit. Every node outside all active sets has the same state, so it is computed once: only active nodes
    /// (a bounded set, all live) get an entry each, and polls naming made-up nodes cannot grow the cache.
    /// </summary>
    public ControlState For(string nodeId) =>
        _activeNodes.Contains(nodeId) ? _states.GetOrAdd(nodeId, Compute) : _outsiderState ??= Compute(OutsiderId);

    /// <summary>States held per node (tests: only active nodes get one).</summary>
    internal int CachedStates => _states.Count;

    /// <summary>No node is called "" (a heartbeat needs an id), so it is in no active set.</summary>
    private const string OutsiderId = "";

    private ControlState Compute(string nodeId)
    {
        var consume = Rules.ConsumeLimits
            .Select((limit, i) => new ConsumeLimitShare(limit.VHost, limit.Queue, limit.MessagesPerSecond, Shares.ShareOf(limit.MessagesPerSecond, _consumeActive[i], nodeId)))
            .ToArray();
        var publish = Rules.PublishLimits
            .Select((limit, i) => new PublishLimitShare(limit.VHost, limit.Exchange, limit.MessagesPerSecond, Shares.ShareOf(limit.MessagesPerSecond, _publishActive[i], nodeId)))
            .ToArray();
        return new ControlState(ETagOf(Rules.Pauses, consume, publish), Rules.Pauses, consume, publish);
    }

    /// <summary>
    /// A hash of the state's content in a fixed text form (ordinal order, invariant round-trip numbers, times in
    /// UTC milliseconds): equal states give equal ETags, on any instance, across restarts and fail-overs.
    /// </summary>
    internal static string ETagOf(IEnumerable<PauseRule> pauses, IEnumerable<ConsumeLimitShare> consume, IEnumerable<PublishLimitShare> publish)
    {
        var text = new StringBuilder();
        foreach (var pause in pauses)
        {
            Append(text, "pause", pause.Id, pause.VHost, pause.Queue, pause.ClientAddress, pause.ConnectionName,
                pause.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        }

        foreach (var share in consume)
        {
            Append(text, "consume", share.VHost, share.Queue, Number(share.GlobalPerSecond), Number(share.SharePerSecond));
        }

        foreach (var share in publish)
        {
            Append(text, "publish", share.VHost, share.Exchange, Number(share.GlobalPerSecond), Number(share.SharePerSecond));
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 16));
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Fields with their lengths, so no choice of names can make two different states read the same.</summary>
    private static void Append(StringBuilder text, params string?[] fields)
    {
        foreach (var field in fields)
        {
            if (field is null)
            {
                text.Append("-;");
            }
            else
            {
                text.Append(field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append(';');
            }
        }

        text.Append('\n');
    }

    private static string Fingerprint(ImmutableArray<ImmutableArray<ActiveNode>> consumeActive, ImmutableArray<ImmutableArray<ActiveNode>> publishActive)
    {
        var text = new StringBuilder();
        foreach (var active in consumeActive.Concat(publishActive))
        {
            foreach (var node in active)
            {
                text.Append(node.NodeId.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(node.NodeId)
                    .Append('=').Append(node.Weight.ToString(CultureInfo.InvariantCulture)).Append(',');
            }

            text.Append('|');
        }

        return text.ToString();
    }
}
