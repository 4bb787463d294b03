using Controller.Contracts;

namespace Controller.Tests.Support;

/// <summary>Gateway reports for tests: a node with consumers on some queues and publishers into some exchanges.</summary>
public static class Reports
{
    public static readonly DateTimeOffset Started = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    public static GatewayReport Node(
        string nodeId,
        IReadOnlyList<QueueReport>? queues = null,
        IReadOnlyList<ConsumerReport>? consumers = null,
        IReadOnlyList<PublishReport>? publishing = null,
        string? appliedETag = null) =>
        new(nodeId, $"{nodeId}.example:5672", $"http://{nodeId}.example:15692/metrics", Started, appliedETag, 3, 4, queues ?? [], consumers ?? [], publishing ?? []);

    public static QueueReport Queue(string vhost, string queue, int consumers, long ready = 10, bool paused = false, double deliverRate = 5) =>
        new(vhost, queue, ready, 2, consumers, 1.5, deliverRate, 4, 0.5, paused, null);

    public static ConsumerReport Consumer(string vhost, string queue, string tag, bool paused = false, string address = "10.1.2.3", string? connectionName = "app") =>
        new(vhost, queue, tag, address, connectionName, 1, 10, 0, 2, paused);

    public static PublishReport Publishing(string vhost, string exchange, double rate) => new(vhost, exchange, rate, false);
}
