using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Service.Leadership;

namespace Controller.Service.Apis;

/// <summary>What operators read: the controller's status, the nodes, and queues and consumers as the live nodes last reported them.</summary>
internal static class ViewsApi
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    public static void MapViewsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ControllerRoutes.Status, (ClusterState cluster, LeaderElection leadership) => TypedResults.Json(Status(cluster, leadership), Json.ControllerStatus));
        app.MapGet(ControllerRoutes.Nodes, (ClusterState cluster) => TypedResults.Json(Nodes(cluster), Json.NodeViewArray));
        app.MapGet(ControllerRoutes.Queues, (ClusterState cluster) => TypedResults.Json(Queues(cluster), Json.QueueViewArray));
        app.MapGet(ControllerRoutes.Consumers, (ClusterState cluster) => TypedResults.Json(Consumers(cluster), Json.ConsumerViewArray));
    }

    internal static ControllerStatus Status(ClusterState cluster, LeaderElection leadership)
    {
        var (leaderId, leaderUrl, epoch, expiresAt) = leadership.Lease;
        var nodes = cluster.Nodes();
        var rules = cluster.Rules;
        return new ControllerStatus(
            leadership.InstanceId,
            leadership.IsLeader,
            leaderId,
            leaderUrl,
            epoch,
            expiresAt,
            nodes.Count(n => n.Node.Live),
            nodes.Count(n => !n.Node.Live),
            rules.Pauses,
            rules.ConsumeLimits,
            rules.PublishLimits);
    }

    internal static NodeView[] Nodes(ClusterState cluster) =>
        [.. cluster.Nodes().Select(n =>
        {
            var report = n.Node.Report;
            return new NodeView(
                report.NodeId,
                report.AmqpEndpoint,
                report.MetricsUrl,
                n.Node.Live,
                report.StartedAt,
                n.Node.LastSeen,
                n.InSync,
                report.Connections,
                report.Channels,
                report.Queues.Count,
                report.Consumers.Count,
                report.Publishing.Sum(p => p.PublishRate),
                report.Queues.Sum(q => q.DeliverRate));
        })];

    /// <summary>
    /// Each queue that some live node serves, summed over those nodes. Paused means an unscoped rule stops the
    /// whole queue; PausedConsumers counts the consumers the gateways reported as paused (scoped rules included).
    /// </summary>
    internal static QueueView[] Queues(ClusterState cluster)
    {
        var live = cluster.LiveNodes();
        var rules = cluster.Rules;
        var pausedConsumers = live
            .SelectMany(n => n.Report.Consumers)
            .Where(c => c.Paused)
            .CountBy(c => (c.VHost, c.Queue))
            .ToDictionary(p => p.Key, p => p.Value);
        return [.. live
            .SelectMany(n => n.Report.Queues.Select(q => (n.NodeId, Queue: q)))
            .GroupBy(x => (x.Queue.VHost, x.Queue.Queue))
            .OrderBy(g => g.Key.VHost, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Queue, StringComparer.Ordinal)
            .Select(g => new QueueView(
                g.Key.VHost,
                g.Key.Queue,
                [.. g.Select(x => x.NodeId).Distinct()],
                g.Sum(x => x.Queue.Ready),
                g.Sum(x => x.Queue.Unacked),
                SaturatedSum(g.Select(x => x.Queue.Consumers)),
                g.Sum(x => x.Queue.PublishRate),
                g.Sum(x => x.Queue.DeliverRate),
                g.Sum(x => x.Queue.AckRate),
                g.Sum(x => x.Queue.RedeliverRate),
                rules.Pauses.Any(p => p.VHost == g.Key.VHost && p.Queue == g.Key.Queue && p.ClientAddress is null && p.ConnectionName is null),
                pausedConsumers.GetValueOrDefault(g.Key),
                rules.ConsumeLimits.FirstOrDefault(l => l.VHost == g.Key.VHost && l.Queue == g.Key.Queue)?.MessagesPerSecond))];
    }

    /// <summary>Counts summed over nodes in 64 bits, shown as at most int.MaxValue instead of overflowing (each is at most ReportChecks.MaxCount).</summary>
    private static int SaturatedSum(IEnumerable<int> counts) => (int)Math.Min(counts.Sum(c => (long)c), int.MaxValue);

    internal static ConsumerView[] Consumers(ClusterState cluster) =>
        [.. cluster.LiveNodes().SelectMany(n => n.Report.Consumers.Select(c => new ConsumerView(
            n.NodeId, c.VHost, c.Queue, c.ConsumerTag, c.ClientAddress, c.ConnectionName, c.Channel, c.Prefetch, c.Unacked, c.DeliverRate, c.Paused)))];
}
