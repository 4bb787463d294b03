using Controller.Contracts;

namespace Controller.Service.Cluster;

/// <summary>
/// What the share rule needs from one live gateway's last report, indexed once per heartbeat so that working
/// out every limit's active nodes costs a lookup per node and limit.
/// </summary>
internal sealed class NodeLoad
{
    private readonly Dictionary<(string VHost, string Queue), int> _consumers = [];
    private readonly Dictionary<(string VHost, string Exchange), double> _publishRates = [];
    private readonly Dictionary<string, double> _publishRatesByVHost = new(StringComparer.Ordinal);

    private NodeLoad(string nodeId)
    {
        NodeId = nodeId;
    }

    public string NodeId { get; }

    public static NodeLoad From(GatewayReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var load = new NodeLoad(report.NodeId);
        foreach (var queue in report.Queues)
        {
            var key = (queue.VHost, queue.Queue);
            // In 64 bits: a queue listed twice must not wrap around to a negative weight.
            load._consumers[key] = (int)Math.Min((long)load._consumers.GetValueOrDefault(key) + Math.Max(0, queue.Consumers), int.MaxValue);
        }

        foreach (var publishing in report.Publishing)
        {
            // A rate that is not a positive number (NaN from a broken reporter) counts as no publishing.
            double rate = publishing.PublishRate > 0 && double.IsFinite(publishing.PublishRate) ? publishing.PublishRate : 0;
            var key = (publishing.VHost, publishing.Exchange);
            load._publishRates[key] = load._publishRates.GetValueOrDefault(key) + rate;
            load._publishRatesByVHost[publishing.VHost] = load._publishRatesByVHost.GetValueOrDefault(publishing.VHost) + rate;
        }

        return load;
    }

    /// <summary>Consumers this node reported on the queue.</summary>
    public int ConsumersOn(string vhost, string queue) => _consumers.GetValueOrDefault((vhost, queue));

    /// <summary>True when the node reported publishing into the exchange, or into any exchange of the vhost when <paramref name="exchange"/> is null.</summary>
    public bool PublishesInto(string vhost, string? exchange) =>
        (exchange is null ? _publishRatesByVHost.GetValueOrDefault(vhost) : _publishRates.GetValueOrDefault((vhost, exchange))) > 0;
}
