using System.Globalization;

namespace Gateway.Compare.Bench;

/// <summary>
/// Command-line settings. Every one has a default (the sizes); <c>--quick</c> swaps in small defaults for a
/// smoke run, and any option given explicitly wins over both, whatever its position.
/// </summary>
internal sealed record CompareOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project tests/Gateway.Compare.Bench -- [options]
          --gateway URL            AMQP URL of the gateway   (e.g. amqp://guest:guest@127.0.0.1:5684/)
          --rabbitmq URL           AMQP URL of RabbitMQ      (e.g. amqp://guest:guest@127.0.0.1:5694/); either or both
          --gateway-pid PID        gateway process for the memory rows; default: the process listening on the URL's port
          --rabbitmq-pid PID       RabbitMQ (beam.smp) process; default: the process listening on the URL's port
          --quick                  small sizes for a smoke run (values in brackets below)
          --rounds N               rounds; every value printed is the median over them   (default 3)
          --workloads LIST         comma-separated subset of: publish,e2e,fanout,drain,deep,churn,memory,latency (default all)
          --seconds S              measured window of each rate                          (default 10)   [1]
          --warmup S               load before each measured window, not counted         (default 2)    [0.3]
          --size BYTES             message body of the publish/e2e/fanout/drain/latency workloads (default 1024)
          --window N               outstanding confirms (and deliveries) per publisher   (default 256)
          --publishers N           publishers of the multi-publisher row, one queue each (default 8)
          --prefetch N             consumer prefetch (basic.qos per consumer)            (default 256)
          --fanout-queues N        queues bound to the fan-out exchange                  (default 10)
          --backlog N              messages to drain                                     (default 1000000) [5000]
          --deep-backlog N         messages queued before the deep publish rate          (default 10000000) [30000]
          --deep-size BYTES        body of the deep back-log's messages                  (default 64)
          --fill-publishers N      connections filling a back-log (not timed)            (default 4)
          --churn-clients N        concurrent open+close loops                           (default 4)
          --idle-connections N     idle connections (one channel each) added per round   (default 250)  [100]
          --idle-queues N          idle durable queues added per round                   (default 5000) [100]
          --settle S               wait before reading the broker's RSS                  (default 3)    [0.5]
          --latency-samples N      confirm round trips per round                         (default 2000) [200]
        """;

    public static readonly string[] AllWorkloads = ["publish", "e2e", "fanout", "drain", "deep", "churn", "memory", "latency"];

    public string? GatewayUrl { get; init; }

    public string? RabbitMqUrl { get; init; }

    public int? GatewayPid { get; init; }

    public int? RabbitMqPid { get; init; }

    public bool Quick { get; init; }

    public int Rounds { get; init; } = 3;

    public IReadOnlySet<string> Workloads { get; init; } = new HashSet<string>(AllWorkloads);

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public int BodySize { get; init; } = 1024;

    /// <summary>Confirms a publisher may have outstanding; also the end-to-end flows' deliveries in flight per queue.</summary>
    public int ConfirmWindow { get; init; } = 256;

    public int Publishers { get; init; } = 8;

    public ushort Prefetch { get; init; } = 256;

    public int FanoutQueues { get; init; } = 10;

    public long Backlog { get; init; } = 1_000_000;

    public long DeepBacklog { get; init; } = 10_000_000;

    public int DeepBodySize { get; init; } = 64;

    public int FillPublishers { get; init; } = 4;

    public int ChurnClients { get; init; } = 4;

    /// <summary>
    /// Opened per round and all kept until the last round (see <see cref="IdleMemoryWorkload"/>), so 250 by default:
    /// Debian's rabbitmq-server runs with a soft limit of 1024 open files, of which RabbitMQ 3.10 reports 927 usable
    /// (rabbitmqctl status); 3 rounds of more would measure refusals, not memory.
    /// </summary>
    public int IdleConnections { get; init; } = 250;

    public int IdleQueues { get; init; } = 5000;

    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);

    public int LatencySamples { get; init; } = 2000;

    private static CompareOptions QuickDefaults => new()
    {
        Quick = true,
        Window = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.FromSeconds(0.3),
        Backlog = 5_000,
        DeepBacklog = 30_000,
        IdleConnections = 100,
        IdleQueues = 100,
        Settle = TimeSpan.FromSeconds(0.5),
        LatencySamples = 200,
    };

    public bool Runs(string workload) => Workloads.Contains(workload);

    /// <summary>Parses <paramref name="args"/>; returns null with <paramref name="error"/> set when they are wrong.</summary>
    public static CompareOptions? Parse(string[] args, out string? error)
    {
        error = null;
        var given = new List<(string Name, string Value)>();
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    error = "";
                    return null;
                case "--quick":
                    quick = true;
                    continue;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{args[i]} needs a value";
                return null;
            }

            given.Add((args[i], args[++i]));
        }

        CompareOptions options = quick ? QuickDefaults : new CompareOptions();
        foreach ((string name, string value) in given)
        {
            try
            {
                options = name switch
                {
                    "--gateway" => options with { GatewayUrl = Url(value) },
                    "--rabbitmq" => options with { RabbitMqUrl = Url(value) },
                    "--gateway-pid" => options with { GatewayPid = Positive(value) },
                    "--rabbitmq-pid" => options with { RabbitMqPid = Positive(value) },
                    "--rounds" => options with { Rounds = Positive(value) },
                    "--workloads" => options with { Workloads = WorkloadList(value) },
                    "--seconds" => options with { Window = Seconds(value) },
                    "--warmup" => options with { Warmup = Seconds(value, allowZero: true) },
                    "--size" => options with { BodySize = Positive(value) },
                    "--window" => options with { ConfirmWindow = Positive(value) },
                    "--publishers" => options with { Publishers = Positive(value) },
                    "--prefetch" => options with { Prefetch = checked((ushort)Positive(value)) },
                    "--fanout-queues" => options with { FanoutQueues = Positive(value) },
                    "--backlog" => options with { Backlog = PositiveLong(value) },
                    "--deep-backlog" => options with { DeepBacklog = PositiveLong(value) },
                    "--deep-size" => options with { DeepBodySize = Positive(value) },
                    "--fill-publishers" => options with { FillPublishers = Positive(value) },
                    "--churn-clients" => options with { ChurnClients = Positive(value) },
                    "--idle-connections" => options with { IdleConnections = Positive(value) },
                    "--idle-queues" => options with { IdleQueues = Positive(value) },
                    "--settle" => options with { Settle = Seconds(value, allowZero: true) },
                    "--latency-samples" => options with { LatencySamples = Positive(value) },
                    _ => throw new FormatException("unknown option"),
                };
            }
            catch (Exception e) when (e is FormatException or OverflowException or UriFormatException)
            {
                error = $"{name} {value}: {e.Message}";
                return null;
            }
        }

        if (options.GatewayUrl is null && options.RabbitMqUrl is null)
        {
            error = "give --gateway URL, --rabbitmq URL or both";
            return null;
        }

        return options;
    }

    /// <summary>One line per setting that shapes the numbers, printed above the table so a result carries its set-up.</summary>
    public IEnumerable<string> Describe()
    {
        yield return Invariant($"rounds {Rounds} (median printed), measured window {Window.TotalSeconds} s after {Warmup.TotalSeconds} s warm-up");
        yield return Invariant($"body {BodySize} B; {ConfirmWindow} confirms outstanding per publisher at most; consumer prefetch {Prefetch}, ack per message");
        yield return Invariant($"drain back-log {Backlog:N0} x {BodySize} B; deep back-log {DeepBacklog:N0} x {DeepBodySize} B; ") +
                     Invariant($"both filled by {FillPublishers} publishers, not timed");
        yield return Invariant($"churn: {ChurnClients} concurrent open+close loops; memory: {IdleQueues} more idle durable queues, then ") +
                     Invariant($"{IdleConnections} more idle connections (one channel each) per round, RSS read {Settle.TotalSeconds} s after each step");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Url(string value) =>
        new Uri(value).Scheme is "amqp" or "amqps" ? value : throw new FormatException("expected an amqp:// or amqps:// URL");

    private static HashSet<string> WorkloadList(string value)
    {
        var chosen = new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        string? unknown = chosen.FirstOrDefault(name => !AllWorkloads.Contains(name));
        return unknown is null ? chosen : throw new FormatException($"unknown workload {unknown}");
    }

    private static int Positive(string value)
    {
        int parsed = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
        return parsed > 0 ? parsed : throw new FormatException("must be positive");
    }

    private static long PositiveLong(string value)
    {
        long parsed = long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
        return parsed > 0 ? parsed : throw new FormatException("must be positive");
    }

    private static TimeSpan Seconds(string value, bool allowZero = false)
    {
        double parsed = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        return parsed > 0 || (allowZero && parsed == 0) ? TimeSpan.FromSeconds(parsed) : throw new FormatException("must be positive");
    }
}
