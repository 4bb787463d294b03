using System.Diagnostics;
using System.Runtime.InteropServices;
using Gateway.Compare.Bench;

// Side-by-side benchmark, gateway vs RabbitMQ (issue 6); docs/compare-benchmark.md.
CompareOptions? options = CompareOptions.Parse(args, out string? error);
if (options is null)
{
    if (string.IsNullOrEmpty(error))
    {
        Console.WriteLine(CompareOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine(error);
    Console.Error.WriteLine(CompareOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;   // stop the workloads, but still delete what they declared
    cancel.Cancel();
};

// `kill PID` too (a background run does not get Ctrl+C): same clean stop instead of leaving queues behind.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancel.Cancel();
});

var targets = new List<BrokerTarget>();
if (options.GatewayUrl is not null)
{
    targets.Add(new BrokerTarget("gateway", options.GatewayUrl, options.GatewayPid));
}

if (options.RabbitMqUrl is not null)
{
    targets.Add(new BrokerTarget("rabbitmq", options.RabbitMqUrl, options.RabbitMqPid));
}

foreach (string line in options.Describe())
{
    Console.WriteLine(line);
}

foreach (BrokerTarget target in targets)
{
    Console.WriteLine(target.Pid is int pid
        ? $"{target.Name}: {target.Url}, process {pid} ({BrokerProcess.Name(pid)})"
        : $"{target.Name}: {target.Url}, no process listening on its port yet");
}

var metrics = new Metrics(options);
var table = new ResultTable();
var failures = new List<string>();
var total = Stopwatch.StartNew();

// Workloads run one round at a time, each on every broker before the next workload, so a slow drift of the machine
// (another tenant, a warming disk) hits both brokers alike; the broker that goes first alternates between rounds.
(string Name, Func<WorkloadContext, CancellationToken, Task> Run)[] workloads =
[
    ("publish", (context, ct) => PublishWorkload.RunAsync(context, 1, metrics.PublishOne, ct)),
    ("publish", (context, ct) => PublishWorkload.RunAsync(context, options.Publishers, metrics.PublishMany, ct)),
    ("e2e", FlowWorkload.RunEndToEndAsync),
    ("fanout", FlowWorkload.RunFanoutAsync),
    ("drain", DrainWorkload.RunAsync),
    ("churn", ChurnWorkload.RunAsync),
    ("latency", ConfirmLatencyWorkload.RunAsync),
];

foreach ((_, Metric metric) in metrics.InOrder().Where(row => options.Runs(row.Workload)))
{
    table.Declare(metric);
}

try
{
    // Memory first, all its rounds on one broker at a time, before any load has grown the brokers' heaps.
    if (options.Runs("memory"))
    {
        foreach (BrokerTarget target in targets)
        {
            await GuardedAsync(target, "memory", () => IdleMemoryWorkload.RunAsync(target, options, metrics, table, cancel.Token));
        }
    }

    await WarmUpAsync();
    for (int round = 1; round <= options.Rounds; round++)
    {
        IEnumerable<BrokerTarget> order = round % 2 == 1 ? targets : Enumerable.Reverse(targets);
        foreach ((string name, Func<WorkloadContext, CancellationToken, Task> run) in workloads.Where(w => options.Runs(w.Name)))
        {
            foreach (BrokerTarget target in order)
            {
                await GuardedAsync(target, name, () => run(new WorkloadContext(target, options, metrics, table, round), cancel.Token));
            }
        }
    }

    // The deep back-log last and one broker at a time: while millions of messages sit in one broker, the other
    // workloads would measure that instead of themselves. Filled once per broker, measured once per round.
    if (options.Runs("deep"))
    {
        foreach (BrokerTarget target in targets)
        {
            await GuardedAsync(target, "deep", () => PublishWorkload.RunDeepAsync(target, options, metrics, table, cancel.Token));
        }

        if (options.Runs("publish"))
        {
            table.Derive(metrics.DeepOverEmpty, broker => table.Median(metrics.DeepPublish, broker) / table.Median(metrics.PublishOne, broker));
        }
    }
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled; what ran so far:");
}

Console.WriteLine();
Console.WriteLine($"medians of {options.Rounds} round(s){(targets.Count == 2 ? $"; ratio = {targets[0].Name}/{targets[1].Name}" : "")}; " +
    $"total {total.Elapsed.TotalMinutes:F1} min");
table.Print([.. targets.Select(target => target.Name)], options.Rounds);
foreach (string failure in failures)
{
    Console.WriteLine(failure);
}

return cancel.IsCancellationRequested ? 130 : failures.Count > 0 ? 1 : 0;

// Round 0, not measured: a short pass of the rate workloads on every broker, so that neither the first broker of
// round 1 nor the first workload pays for this process's (and a .NET broker's) JIT compilation and pool growth.
async Task WarmUpAsync()
{
    var clock = Stopwatch.StartNew();
    CompareOptions brief = options with
    {
        Warmup = TimeSpan.Zero,
        Window = TimeSpan.FromSeconds(options.Quick ? 0.3 : 2),
        LatencySamples = 100,
    };
    var scratch = new ResultTable();
    string[] warmed = ["publish", "e2e", "fanout", "churn", "latency"];
    var chosen = workloads.Where(w => warmed.Contains(w.Name) && options.Runs(w.Name)).ToList();
    foreach ((string name, Func<WorkloadContext, CancellationToken, Task> run) in chosen)
    {
        foreach (BrokerTarget target in targets)
        {
            await GuardedAsync(target, $"{name} (warm-up)", () => run(new WorkloadContext(target, brief, metrics, scratch, 0), cancel.Token));
        }
    }

    if (chosen.Count > 0)
    {
        Console.WriteLine($"warm-up (not measured) took {clock.Elapsed.TotalSeconds:F1} s");
    }
}

// A workload that fails on one broker is reported and leaves a gap in the table; the others still run.
async Task GuardedAsync(BrokerTarget target, string workload, Func<Task> run)
{
    try
    {
        await run();
    }
    catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
    {
        string message = $"{target.Name} {workload}: failed: {e.GetType().Name}: {e.Message}";
        failures.Add(message);
        target.Log(message);
    }
}
