using System.Diagnostics.Metrics;
using Gateway.Broker.Topology;
using Prometheus;

namespace Gateway.Server.Metrics;

/// <summary>
/// The gateway's metrics (docs/metrics.md). Connection-level counts are plain interlocked fields, read by
/// a System.Diagnostics.Metrics meter ("Gateway.Amqp", for OpenTelemetry and dotnet-counters) and, at
/// scrape time, by the Prometheus registry <see cref="Registry"/>; message counters and the confirm
/// latency histogram are prometheus-net collectors; per-queue gauges are read from the topology and the
/// log when scraped, so idle queues cost nothing between scrapes.
/// </summary>
/// <remarks>
/// Each gateway has its own <see cref="CollectorRegistry"/> rather than prometheus-net's static default:
/// several gateways in one process (the tests, a master/slave rehearsal) must not add up each other's
/// counts, and the runtime's default process metrics stay out of a scrape that is about AMQP.
/// </remarks>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Gateway.Amqp";

    private readonly Meter _meter;
    private long _openConnections;
    private long _acceptedConnections;
    private long _openChannels;
    private long _bytesReceived;
    private long _bytesSent;

    private readonly Counter _published;
    private readonly Counter _delivered;
    private readonly Counter _redelivered;
    private readonly Counter _acknowledged;
    private readonly Histogram _confirmLatency;

    public GatewayMetrics(IMeterFactory? meterFactory = null, TopologyService? topology = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableUpDownCounter("amqp.connections", () => OpenConnections, description: "Open AMQP connections");
        _meter.CreateObservableCounter("amqp.connections.accepted", () => AcceptedConnections, description: "AMQP connections accepted since start");
        _meter.CreateObservableUpDownCounter("amqp.channels", () => OpenChannels, description: "Open AMQP channels");
        _meter.CreateObservableCounter("amqp.bytes.received", () => BytesReceived, unit: "By");
        _meter.CreateObservableCounter("amqp.bytes.sent", () => BytesSent, unit: "By");

        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // The same fields the meter reads, copied into gauges and counters just before each scrape: one
        // source of truth, and no second increment on the per-frame byte path.
        var connections = factory.CreateGauge("gateway_connections", "Open AMQP connections.");
        var accepted = factory.CreateCounter("gateway_connections_accepted_total", "AMQP connections accepted since start.");
        var channels = factory.CreateGauge("gateway_channels", "Open AMQP channels.");
        var received = factory.CreateCounter("gateway_received_bytes_total", "Bytes read from AMQP clients.");
        var sent = factory.CreateCounter("gateway_sent_bytes_total", "Bytes written to AMQP clients.");
        Registry.AddBeforeCollectCallback(() =>
        {
            connections.Set(OpenConnections);
            accepted.IncTo(AcceptedConnections);
            channels.Set(OpenChannels);
            received.IncTo(BytesReceived);
            sent.IncTo(BytesSent);
        });

        // Labelled by vhost only: a publish fans out to any number of queues and a per-queue label would
        // cost a lookup per destination on the hot path; vhosts are few and operator-created.
        string[] byVirtualHost = ["vhost"];
        _published = factory.CreateCounter("gateway_messages_published_total", "Messages published and stored in the log for at least one queue.", byVirtualHost);
        _delivered = factory.CreateCounter("gateway_messages_delivered_total", "Messages delivered to clients (basic.deliver and basic.get-ok).", byVirtualHost);
        _redelivered = factory.CreateCounter("gateway_messages_redelivered_total", "Deliveries with the redelivered flag set (a subset of delivered).", byVirtualHost);
        _acknowledged = factory.CreateCounter("gateway_messages_acknowledged_total", "Deliveries settled by basic.ack.", byVirtualHost);
        _confirmLatency = factory.CreateHistogram(
            "gateway_publish_confirm_seconds",
            "Time from a publish's arrival to its publisher confirm (basic.ack) being sent.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });   // 0.5 ms … ~16 s

        if (topology is not null)
        {
            QueueMetrics.Register(factory, Registry, topology);
        }
    }

    /// <summary>What GET /metrics serves (the host maps it on the metrics port).</summary>
    public CollectorRegistry Registry { get; }

    public long OpenConnections => Interlocked.Read(ref _openConnections);

    public long AcceptedConnections => Interlocked.Read(ref _acceptedConnections);

    public long OpenChannels => Interlocked.Read(ref _openChannels);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _openConnections);
        Interlocked.Increment(ref _acceptedConnections);
    }

    internal void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    internal void ChannelsChanged(long delta) => Interlocked.Add(ref _openChannels, delta);

    internal void Received(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void Sent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    /// <summary>The message counters of one vhost, resolved once per channel so the per-message paths skip the label lookup.</summary>
    internal MessageCounters ForVirtualHost(string virtualHost) => new(
        _published.WithLabels(virtualHost),
        _delivered.WithLabels(virtualHost),
        _redelivered.WithLabels(virtualHost),
        _acknowledged.WithLabels(virtualHost));

    /// <summary>A publisher confirm (ack) was handed to the connection <paramref name="elapsed"/> after its publish arrived.</summary>
    internal void PublishConfirmed(TimeSpan elapsed) => _confirmLatency.Observe(elapsed.TotalSeconds);

    public void Dispose() => _meter.Dispose();
}

/// <summary>One vhost's message counters (see <see cref="GatewayMetrics.ForVirtualHost"/>).</summary>
internal sealed class MessageCounters(Counter.Child publishedCount, Counter.Child deliveredCount, Counter.Child redeliveredCount, Counter.Child acknowledgedCount)
{
    public void Published(int count) => publishedCount.Inc(count);

    public void Delivered(bool redelivered)
    {
        deliveredCount.Inc();
        if (redelivered)
        {
            redeliveredCount.Inc();
        }
    }

    public void Acknowledged(int count) => acknowledgedCount.Inc(count);
}
