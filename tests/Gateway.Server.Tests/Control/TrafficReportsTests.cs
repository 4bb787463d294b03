using Gateway.Host.Control;
using Gateway.Server.Control;

namespace Gateway.Server.Tests.Control;

public sealed class TrafficReportsTests
{
    private static readonly GatewayIdentity Identity = new("gw-a", "gw-a:5672", "http://gw-a:15692/metrics", DateTimeOffset.UnixEpoch);
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static QueueTraffic Queue(string name, long published, long delivered = 0, long acked = 0, long redelivered = 0) =>
        new("/", name, Ready: 5, Unacked: 1, Consumers: 1, published, delivered, acked, redelivered, Paused: false, ConsumeLimitPerSecond: null);

    private static TrafficSnapshot Snapshot(DateTimeOffset at, QueueTraffic[] queues, ConsumerTraffic[]? consumers = null, PublishTraffic[]? publishing = null) =>
        new(at, Connections: 2, Channels: 3, queues, consumers ?? [], publishing ?? []);

    [Fact]
    public void First_report_has_zero_rates_and_the_identity()
    {
        var report = TrafficReports.Build(Identity, appliedETag: null, previous: null, Snapshot(T0, [Queue("orders", 1000, 900, 800, 10)]));

        Assert.Equal("gw-a", report.NodeId);
        Assert.Equal("gw-a:5672", report.AmqpEndpoint);
        Assert.Equal("http://gw-a:15692/metrics", report.MetricsUrl);
        Assert.Null(report.AppliedETag);
        Assert.Equal((2, 3), (report.Connections, report.Channels));
        var queue = Assert.Single(report.Queues);
        Assert.Equal((5L, 1L), (queue.Ready, queue.Unacked));
        Assert.Equal([0.0, 0, 0, 0], [queue.PublishRate, queue.DeliverRate, queue.AckRate, queue.RedeliverRate]);
    }

    [Fact]
    public void Rates_are_counter_growth_over_the_seconds_between_snapshots()
    {
        var before = Snapshot(
            T0,
            [Queue("orders", 100, 50, 40, 2)],
            [new ConsumerTraffic(7, "/", "orders", "ctag-1", "10.0.0.5", "billing", 1, 10, 3, Delivered: 50, Paused: false)],
            [new PublishTraffic("/", "amq.direct", 100, ThrottledWaits: 4)]);
        var after = Snapshot(
            T0.AddSeconds(2),
            [Queue("orders", 300, 250, 140, 6)],
            [new ConsumerTraffic(7, "/", "orders", "ctag-1", "10.0.0.5", "billing", 1, 10, 3, Delivered: 250, Paused: true)],
            [new PublishTraffic("/", "amq.direct", 300, ThrottledWaits: 9)]);

        var report = TrafficReports.Build(Identity, "etag-1", before, after);

        var queue = Assert.Single(report.Queues);
        Assert.Equal([100.0, 100, 50, 2], [queue.PublishRate, queue.DeliverRate, queue.AckRate, queue.RedeliverRate]);
        var consumer = Assert.Single(report.Consumers);
        Assert.Equal(100.0, consumer.DeliverRate);
        Assert.True(consumer.Paused);
        Assert.Equal("billing", consumer.ConnectionName);
        var publishing = Assert.Single(report.Publishing);
        Assert.Equal(100.0, publishing.PublishRate);
        Assert.True(publishing.Throttled);
        Assert.Equal("etag-1", report.AppliedETag);
    }

    [Fact]
    public void A_queue_new_since_the_previous_snapshot_counts_from_zero_and_a_reset_counter_from_its_new_value()
    {
        var before = Snapshot(T0, [Queue("recreated", 1000)], publishing: [new PublishTraffic("/", "", 10, ThrottledWaits: 3)]);
        var after = Snapshot(T0.AddSeconds(4), [Queue("recreated", 40), Queue("new", 80)], publishing: [new PublishTraffic("/", "", 30, ThrottledWaits: 3)]);

        var report = TrafficReports.Build(Identity, null, before, after);

        Assert.Equal(10.0, report.Queues.Single(q => q.Queue == "recreated").PublishRate);
        Assert.Equal(20.0, report.Queues.Single(q => q.Queue == "new").PublishRate);
        Assert.False(Assert.Single(report.Publishing).Throttled);   // no new waits in the interval
    }

    [Fact]
    public void A_snapshot_listing_a_queue_twice_does_not_throw()
    {
        var before = Snapshot(T0, [Queue("twice", 10), Queue("twice", 20)]);
        var after = Snapshot(T0.AddSeconds(1), [Queue("twice", 30)]);

        var report = TrafficReports.Build(Identity, null, before, after);

        Assert.Equal(20.0, Assert.Single(report.Queues).PublishRate);
    }
}
