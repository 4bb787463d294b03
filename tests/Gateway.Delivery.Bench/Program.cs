using System.Globalization;
using Gateway.Delivery.Bench;

// Side-by-side fairness benchmark of push delivery (issue 5); docs/delivery-benchmark.md.
BenchOptions? options = BenchOptions.Parse(args, out string? error);
if (options is null)
{
    if (string.IsNullOrEmpty(error))
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;   // stop the phases, but still delete the queues
    cancel.Cancel();
};

int channels = options.Connections * options.ChannelsPerConnection;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"cold: {options.ColdQueues} queues, {options.Connections} connections x {options.ChannelsPerConnection} channel(s), " +
    $"~{Math.Ceiling(options.ColdQueues / (double)channels)} consumers per channel, prefetch {options.ColdPrefetch}, " +
    $"{options.ColdRate} msg/s in total to random queues (confirms on, not awaited per message)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"hot: 1 queue, 1 consumer (prefetch {options.HotPrefetch}, ack each), publisher in confirm batches of " +
    $"{options.HotBatch} x {options.HotBodySize} B{(options.HotRate > 0 ? $" capped at {options.HotRate} msg/s" : "")}; phases of {options.Phase.TotalSeconds} s " +
    $"(warm-up {options.Warmup.TotalSeconds} s, hot ramp {options.Ramp.TotalSeconds} s); durable queues, persistent messages"));

var results = new List<RunResult>();
foreach ((string broker, string? url) in new[] { ("gateway", options.GatewayUrl), ("rabbitmq", options.RabbitMqUrl) })
{
    if (url is null || cancel.IsCancellationRequested)
    {
        continue;
    }

    RunResult result;
    try
    {
        result = await FairnessRun.RunAsync(broker, url, options, cancel.Token);
    }
    catch (OperationCanceledException) when (cancel.IsCancellationRequested)
    {
        Console.Error.WriteLine($"{broker}: cancelled (its queues were deleted)");
        return 130;
    }

    results.Add(result);
    Console.WriteLine();
    Report.PrintRun(result);
    Console.WriteLine();
}

if (results.Count == 2)
{
    Report.PrintComparison(results[0], results[1]);
}

return 0;
