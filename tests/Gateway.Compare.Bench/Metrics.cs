using System.Globalization;

namespace Gateway.Compare.Bench;

/// <summary>The table's rows, labelled from the options in force so that a printed table says what it measured.</summary>
internal sealed class Metrics
{
    public Metrics(CompareOptions options)
    {
        string body = Bytes(options.BodySize);
        PublishOne = new Metric($"publish {body} persistent, confirms, 1 publisher", "msg/s", HigherIsBetter: true);
        PublishMany = new Metric($"publish {body} persistent, confirms, {options.Publishers} publishers", "msg/s", HigherIsBetter: true);
        EndToEnd = new Metric($"publish -> consume {body} transient, 1+1", "msg/s", HigherIsBetter: true);
        FanoutPublished = new Metric($"fan-out 1 -> {options.FanoutQueues} queues, {body} persistent, published", "msg/s", HigherIsBetter: true);
        FanoutDelivered = new Metric($"fan-out 1 -> {options.FanoutQueues} queues, delivered (all queues)", "msg/s", HigherIsBetter: true);
        DrainTime = new Metric($"drain {Count(options.Backlog)} x {body} back-log, time", "s", HigherIsBetter: false, "F2");
        DrainRate = new Metric($"drain {Count(options.Backlog)} x {body} back-log, rate", "msg/s", HigherIsBetter: true);
        DeepPublish = new Metric($"publish {body} confirms, 1 publisher, {Count(options.DeepBacklog)} queued", "msg/s", HigherIsBetter: true);
        DeepOverEmpty = new Metric($"  relative to the same with none queued (row 1)", "x", HigherIsBetter: true, "F2");
        Churn = new Metric($"connection open+close, {options.ChurnClients} clients", "conn/s", HigherIsBetter: true);
        ConnectionMemory = new Metric("broker RSS per idle connection (1 channel)", "KiB", HigherIsBetter: false, "F1");
        QueueMemory = new Metric("broker RSS per idle durable queue", "KiB", HigherIsBetter: false, "F1");
        ConfirmP50 = new Metric($"confirm latency p50, {body} persistent, 1 in flight", "ms", HigherIsBetter: false, "F2");
        ConfirmP99 = new Metric($"confirm latency p99, {body} persistent, 1 in flight", "ms", HigherIsBetter: false, "F2");
    }

    /// <summary>The rows in the order, each with the workload that fills it.</summary>
    public IEnumerable<(string Workload, Metric Metric)> InOrder() =>
    [
        ("publish", PublishOne), ("publish", PublishMany), ("e2e", EndToEnd), ("fanout", FanoutPublished), ("fanout", FanoutDelivered),
        ("drain", DrainTime), ("drain", DrainRate), ("deep", DeepPublish), ("deep", DeepOverEmpty), ("churn", Churn),
        ("memory", ConnectionMemory), ("memory", QueueMemory), ("latency", ConfirmP50), ("latency", ConfirmP99),
    ];

    public Metric PublishOne { get; }

    public Metric PublishMany { get; }

    public Metric EndToEnd { get; }

    public Metric FanoutPublished { get; }

    public Metric FanoutDelivered { get; }

    public Metric DrainTime { get; }

    public Metric DrainRate { get; }

    public Metric DeepPublish { get; }

    public Metric DeepOverEmpty { get; }

    public Metric Churn { get; }

    public Metric ConnectionMemory { get; }

    public Metric QueueMemory { get; }

    public Metric ConfirmP50 { get; }

    public Metric ConfirmP99 { get; }

    public static string Bytes(int size) =>
        size % 1024 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{size / 1024} KB") : string.Create(CultureInfo.InvariantCulture, $"{size} B");

    public static string Count(long count) => count switch
    {
        _ when count % 1_000_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{count / 1_000_000}M"),
        _ when count % 1_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{count / 1_000}k"),
        _ => count.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>What a workload needs for one round on one broker; round 0 is the unmeasured warm-up and logs nothing.</summary>
internal sealed record WorkloadContext(BrokerTarget Target, CompareOptions Options, Metrics Metrics, ResultTable Table, int Round)
{
    public void Record(Metric metric, double value)
    {
        Table.Record(metric, Target.Name, value);
        if (Round == 0)
        {
            return;
        }

        Target.Log(string.Create(CultureInfo.InvariantCulture, $"round {Round}: {metric.Label}: {value.ToString(metric.Format, CultureInfo.InvariantCulture)} {metric.Unit}"));
    }
}
