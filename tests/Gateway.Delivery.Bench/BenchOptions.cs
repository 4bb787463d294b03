using System.Globalization;

namespace Gateway.Delivery.Bench;

/// <summary>Command-line settings; every one has a default so that a bare URL runs the workload.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project tests/Gateway.Delivery.Bench -- [options]
          --gateway URL          AMQP URL of the gateway (e.g. amqp://guest:guest@127.0.0.1:5691/)
          --rabbitmq URL         AMQP URL of RabbitMQ; with both, the gateway runs first, then RabbitMQ
          --cold N               cold queues, one consumer each                 (default 5000)
          --connections N        connections carrying the cold consumers        (default 50)
          --channels N           channels per such connection                   (default 1)
          --cold-prefetch N      prefetch (basic.qos, per consumer) of a cold consumer (default 10)
          --rate N               cold messages per second, all queues together  (default 500)
          --hot-prefetch N       prefetch of the hot queue's consumer           (default 100)
          --hot-batch N          hot publisher: publishes per confirm batch     (default 256)
          --hot-size N           hot message body bytes                         (default 256)
          --hot-rate N           cap on the hot publisher, msg/s; 0: as fast as confirms come back (default 0)
          --seconds S            length of each measured phase                  (default 20)
          --warmup S             cold trickle before the baseline, not measured (default 5)
          --ramp S               hot traffic before phase 2 is measured         (default 3)
          --drain S              longest wait for a phase's last cold messages  (default 30)
        """;

    public string? GatewayUrl { get; init; }

    public string? RabbitMqUrl { get; init; }

    public int ColdQueues { get; init; } = 5000;

    public int Connections { get; init; } = 50;

    public int ChannelsPerConnection { get; init; } = 1;

    public ushort ColdPrefetch { get; init; } = 10;

    public double ColdRate { get; init; } = 500;

    public ushort HotPrefetch { get; init; } = 100;

    public int HotBatch { get; init; } = 256;

    public int HotBodySize { get; init; } = 256;

    /// <summary>Messages per second the hot publisher may send; 0 for no limit.</summary>
    public double HotRate { get; init; }

    public TimeSpan Phase { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Ramp { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Parses <paramref name="args"/>; returns null with <paramref name="error"/> set when they are wrong.</summary>
    public static BenchOptions? Parse(string[] args, out string? error)
    {
        var options = new BenchOptions();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                error = "";
                return null;
            }

            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return null;
            }

            string value = args[++i];
            try
            {
                options = name switch
                {
                    "--gateway" => options with { GatewayUrl = value },
                    "--rabbitmq" => options with { RabbitMqUrl = value },
                    "--cold" => options with { ColdQueues = Positive(value) },
                    "--connections" => options with { Connections = Positive(value) },
                    "--channels" => options with { ChannelsPerConnection = Positive(value) },
                    "--cold-prefetch" => options with { ColdPrefetch = checked((ushort)Positive(value)) },
                    "--rate" => options with { ColdRate = Number(value) },
                    "--hot-prefetch" => options with { HotPrefetch = checked((ushort)Positive(value)) },
                    "--hot-batch" => options with { HotBatch = Positive(value) },
                    "--hot-rate" => options with { HotRate = Number(value, allowZero: true) },
                    "--hot-size" => options with { HotBodySize = Math.Max(Positive(value), 8) },
                    "--seconds" => options with { Phase = TimeSpan.FromSeconds(Number(value)) },
                    "--warmup" => options with { Warmup = TimeSpan.FromSeconds(Number(value, allowZero: true)) },
                    "--ramp" => options with { Ramp = TimeSpan.FromSeconds(Number(value, allowZero: true)) },
                    "--drain" => options with { Drain = TimeSpan.FromSeconds(Number(value)) },
                    _ => throw new FormatException($"unknown option {name}"),
                };
            }
            catch (Exception e) when (e is FormatException or OverflowException)
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

    private static int Positive(string value)
    {
        int parsed = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
        return parsed > 0 ? parsed : throw new FormatException("must be positive");
    }

    private static double Number(string value, bool allowZero = false)
    {
        double parsed = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        return parsed > 0 || (allowZero && parsed == 0) ? parsed : throw new FormatException("must be positive");
    }
}
