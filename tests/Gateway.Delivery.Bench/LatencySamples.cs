using System.Diagnostics;

namespace Gateway.Delivery.Bench;

/// <summary>
/// Latencies of one phase, in milliseconds, from <see cref="Stopwatch.GetTimestamp"/> stamps taken in this
/// process. Cold messages also carry a sequence number, so duplicates and losses are counted rather than
/// folded into the percentiles.
/// </summary>
internal sealed class LatencySamples
{
    private readonly Lock _lock = new();
    private readonly List<double> _samples = [];
    private readonly HashSet<int> _seen = [];
    private int _duplicates;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _samples.Count;
            }
        }
    }

    public int Duplicates => Volatile.Read(ref _duplicates);

    public static double Milliseconds(long fromTimestamp, long toTimestamp) =>
        (toTimestamp - fromTimestamp) * 1000.0 / Stopwatch.Frequency;

    /// <summary>Records a sample; with a sequence number, a repeat is counted as a duplicate instead.</summary>
    public void Add(double milliseconds, int sequence = -1)
    {
        lock (_lock)
        {
            if (sequence >= 0 && !_seen.Add(sequence))
            {
                _duplicates++;
                return;
            }

            _samples.Add(milliseconds);
        }
    }

    public Percentiles Summarise()
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _samples];
        }

        Array.Sort(sorted);
        return sorted.Length == 0
            ? new Percentiles(0, double.NaN, double.NaN, double.NaN)
            : new Percentiles(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1]);
    }

    // Nearest-rank percentile.
    private static double Rank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

internal readonly record struct Percentiles(int Count, double P50, double P99, double Max);
