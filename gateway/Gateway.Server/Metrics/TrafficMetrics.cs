using Gateway.Server.Control;
using Prometheus;

namespace Gateway.Server.Metrics;

/// <summary>
/// The publish side of traffic control in the gateway's registry (docs/metrics.md): the limits in force and
/// the connections they hold, read at scrape time, and the count of publishes that waited. The queue side
/// (paused, paused consumers, consume limit) is in <see cref="QueueMetrics"/>, which already walks the queues.
/// </summary>
internal sealed class TrafficMetrics
{
    private readonly Counter _throttled;
    private readonly Gauge _publishLimit;
    private readonly Gauge _blockedConnections;
    private readonly TrafficControl _control;
    private readonly Lock _lock = new();
    private HashSet<(string VirtualHost, string Exchange)> _exportedLimits = [];

    public TrafficMetrics(CollectorRegistry registry, TrafficControl control)
    {
        _control = control;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _throttled = factory.CreateCounter(
            "gateway_publish_throttled_total", "Publishes that had to wait for a publish rate limit (the connection stopped reading meanwhile).", ["vhost"]);
        _publishLimit = factory.CreateGauge(
            "gateway_publish_limit_per_second", "This gateway's share of a publish rate limit; exchange \"*\" is a vhost-wide limit.", ["vhost", "exchange"]);
        _blockedConnections = factory.CreateGauge(
            "gateway_connections_blocked", "Connections held by a publish rate limit now (from their first wait until released).");
        registry.AddBeforeCollectCallback(Update);
    }

    /// <summary>The throttled counter of one vhost, resolved once per vhost.</summary>
    public Counter.Child Throttled(string virtualHost) => _throttled.WithLabels(virtualHost);

    private void Update()
    {
        lock (_lock)
        {
            _blockedConnections.Set(_control.BlockedConnections);
            var exported = new HashSet<(string VirtualHost, string Exchange)>();
            foreach ((string virtualHost, string? exchange, double perSecond) in _control.PublishLimits())
            {
                var labels = (virtualHost, exchange ?? "*");
                _publishLimit.WithLabels(labels.virtualHost, labels.Item2).Set(perSecond);
                exported.Add(labels);
            }

            foreach ((string virtualHost, string exchange) in _exportedLimits.Except(exported))
            {
                _publishLimit.RemoveLabelled(virtualHost, exchange);
            }

            _exportedLimits = exported;
        }
    }
}
