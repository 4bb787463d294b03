using System.Collections.Immutable;
using Controller.Contracts;

namespace Controller.Service.Cluster;

/// <summary>A node that takes part in a limit, and its weight in the split.</summary>
internal readonly record struct ActiveNode(string NodeId, int Weight);

/// <summary>
/// How a global rate limit is split among gateways (controller/README.md, "Shares"). The active nodes of a limit
/// are the live nodes that use it now: consumers on the queue for a consume limit (weighted by their number),
/// publishing into the exchange (or any exchange of the vhost) for a publish limit (equal weights). Active nodes
/// split the rate by weight; any other node gets rate / (active + 1), so a node whose first consumer or publisher
/// appears can start at once instead of waiting for its next report: the total overshoots by that share for each
/// node that starts before its next report counts it, for at most that one heartbeat. With no active node every
/// node gets the whole rate (the same rule: rate / (0 + 1)): nobody uses it, and whoever starts first must not be
/// starved.
/// </summary>
internal static class Shares
{
    /// <param name="liveNodes">The live nodes, in any order; the answer is sorted by node id.</param>
    public static ImmutableArray<ActiveNode> ConsumeActive(ConsumeLimit limit, IEnumerable<NodeLoad> liveNodes)
    {
        ArgumentNullException.ThrowIfNull(limit);
        return [.. liveNodes
            .Select(node => new ActiveNode(node.NodeId, node.ConsumersOn(limit.VHost, limit.Queue)))
            .Where(node => node.Weight > 0)
            .OrderBy(node => node.NodeId, StringComparer.Ordinal)];
    }

    public static ImmutableArray<ActiveNode> PublishActive(PublishLimit limit, IEnumerable<NodeLoad> liveNodes)
    {
        ArgumentNullException.ThrowIfNull(limit);
        return [.. liveNodes
            .Where(node => node.PublishesInto(limit.VHost, limit.Exchange))
            .Select(node => new ActiveNode(node.NodeId, 1))
            .OrderBy(node => node.NodeId, StringComparer.Ordinal)];
    }

    /// <summary><paramref name="nodeId"/>'s share of <paramref name="globalPerSecond"/> given the limit's active nodes.</summary>
    public static double ShareOf(double globalPerSecond, ImmutableArray<ActiveNode> active, string nodeId)
    {
        if (active.IsEmpty)
        {
            return globalPerSecond;
        }

        long totalWeight = 0;
        int weight = 0;
        foreach (var node in active)
        {
            totalWeight += node.Weight;
            if (node.NodeId == nodeId)
            {
                weight = node.Weight;
            }
        }

        // The fraction first: rate × weight can overflow to +∞ for a huge rate (a limit stored before rates were
        // capped), and System.Text.Json refuses to write ∞, which failed every active node's state poll.
        return weight > 0
            ? globalPerSecond * ((double)weight / totalWeight)
            : globalPerSecond / (active.Length + 1);
    }
}
