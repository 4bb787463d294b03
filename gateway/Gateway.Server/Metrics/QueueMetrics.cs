using Gateway.Broker.Topology;
using Prometheus;

namespace Gateway.Server.Metrics;

/// <summary>
/// Per-queue gauges, read from the topology and the log when Prometheus scrapes: nothing is counted on
/// the message paths, and an idle queue costs one stats read per scrape. Cardinality is bounded by the
/// queues this gateway serves: a deleted queue's series are removed at the next scrape.
/// </summary>
internal sealed class QueueMetrics
{
    private static readonly string[] QueueLabels = ["vhost", "queue"];

    private readonly TopologyService _topology;
    private readonly Gauge _ready;
    private readonly Gauge _unacknowledged;
    private readonly Gauge _consumers;
    private readonly Gauge _longestWait;
    private readonly Gauge _paused;
    private readonly Gauge _pausedConsumers;
    private readonly Gauge _consumeLimit;
    private readonly Counter _published;
    private readonly Counter _delivered;
    private readonly Counter _redelivered;
    private readonly Counter _acknowledged;
    private readonly Lock _lock = new();   // concurrent scrapes would otherwise race on removing vanished series
    private HashSet<(string VirtualHost, string Queue)> _exported = [];

    private QueueMetrics(IMetricFactory factory, TopologyService topology)
    {
        _topology = topology;
        _ready = factory.CreateGauge("gateway_queue_messages_ready", "Messages ready for delivery.", QueueLabels);
        _unacknowledged = factory.CreateGauge("gateway_queue_messages_unacked", "Messages delivered and not yet acknowledged.", QueueLabels);
        _consumers = factory.CreateGauge("gateway_queue_consumers", "Consumers on the queue.", QueueLabels);
        _longestWait = factory.CreateGauge(
            "gateway_queue_longest_wait_dispatches",
            "Most dispatches (bursts of any queue) between this queue being scheduled and served: the fairness signal (docs/dispatcher.md).",
            QueueLabels);
        _paused = factory.CreateGauge("gateway_queue_paused", "1 while an unscoped controller pause holds the queue's consumption, else 0.", QueueLabels);
        _pausedConsumers = factory.CreateGauge("gateway_queue_paused_consumers", "Consumers of the queue held by a controller pause (scoped or not).", QueueLabels);
        _consumeLimit = factory.CreateGauge(
            "gateway_queue_consume_limit_per_second", "This gateway's share of the queue's consume rate limit; absent without one.", QueueLabels);
        // The dispatch queue counts these anyway (the controller's heartbeat rates); exported as counters for rate().
        _published = factory.CreateCounter("gateway_queue_messages_published_total", "Messages appended to the queue on this gateway.", QueueLabels);
        _delivered = factory.CreateCounter("gateway_queue_messages_delivered_total", "Deliveries from the queue (consumers and basic.get).", QueueLabels);
        _redelivered = factory.CreateCounter("gateway_queue_messages_redelivered_total", "Deliveries flagged redelivered (a subset of delivered).", QueueLabels);
        _acknowledged = factory.CreateCounter("gateway_queue_messages_acknowledged_total", "Deliveries of the queue acknowledged.", QueueLabels);
    }

    public static void Register(IMetricFactory factory, CollectorRegistry registry, TopologyService topology)
    {
        var metrics = new QueueMetrics(factory, topology);
        registry.AddBeforeCollectCallback(metrics.Update);
    }

    private void Update()
    {
        lock (_lock)
        {
            var exported = new HashSet<(string VirtualHost, string Queue)>();
            foreach (ServedQueue queue in _topology.ServedQueues())
            {
                if (!TryReadCounts(queue, out long ready, out long unacknowledged))
                {
                    continue;   // deleted since the snapshot, or the log is closing: its series go below
                }

                string[] labels = [queue.VirtualHost, queue.Name];
                _ready.WithLabels(labels).Set(ready);
                _unacknowledged.WithLabels(labels).Set(unacknowledged);
                _consumers.WithLabels(labels).Set(queue.Dispatch.ConsumerCount);
                _longestWait.WithLabels(labels).Set(queue.Dispatch.LongestWait);
                _paused.WithLabels(labels).Set(queue.Dispatch.IsPausedForEveryone ? 1 : 0);
                _pausedConsumers.WithLabels(labels).Set(queue.Dispatch.PausedConsumerCount);
                if (queue.Dispatch.ConsumeLimitPerSecond is { } limit)
                {
                    _consumeLimit.WithLabels(labels).Set(limit);
                }
                else
                {
                    _consumeLimit.RemoveLabelled(labels);
                }

                // IncTo never lowers a counter; a queue recreated under the same name starts a new series (removed below first).
                _published.WithLabels(labels).IncTo(queue.Dispatch.AppendedCount);
                _delivered.WithLabels(labels).IncTo(queue.Dispatch.DeliveredCount);
                _redelivered.WithLabels(labels).IncTo(queue.Dispatch.RedeliveredCount);
                _acknowledged.WithLabels(labels).IncTo(queue.Dispatch.AcknowledgedCount);
                exported.Add((queue.VirtualHost, queue.Name));
            }

            foreach ((string virtualHost, string name) in _exported.Except(exported))
            {
                _ready.RemoveLabelled(virtualHost, name);
                _unacknowledged.RemoveLabelled(virtualHost, name);
                _consumers.RemoveLabelled(virtualHost, name);
                _longestWait.RemoveLabelled(virtualHost, name);
                _paused.RemoveLabelled(virtualHost, name);
                _pausedConsumers.RemoveLabelled(virtualHost, name);
                _consumeLimit.RemoveLabelled(virtualHost, name);
                _published.RemoveLabelled(virtualHost, name);
                _delivered.RemoveLabelled(virtualHost, name);
                _redelivered.RemoveLabelled(virtualHost, name);
                _acknowledged.RemoveLabelled(virtualHost, name);
            }

            _exported = exported;
        }
    }

    private bool TryReadCounts(ServedQueue queue, out long ready, out long unacknowledged) =>
        TryReadCounts(_topology, queue, out ready, out unacknowledged);

    /// <summary>A queue's ready and unacknowledged counts from the log; false if it went meanwhile (the counts are then 0).</summary>
    internal static bool TryReadCounts(TopologyService topology, ServedQueue queue, out long ready, out long unacknowledged)
    {
        (ready, unacknowledged) = (0, 0);
        try
        {
            ready = queue.Dispatch.Source.Ready;
            foreach (string topic in queue.Topics)
            {
                unacknowledged += topology.Log.GetStats(topic).InFlight;
            }

            return true;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or ObjectDisposedException)
        {
            return false;
        }
    }
}
