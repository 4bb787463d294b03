using System.Globalization;

namespace Gateway.Compare.Bench;

/// <summary>A row of the table: its label (sizes from the options, never fixed text), unit, and which way is better.</summary>
internal sealed record Metric(string Label, string Unit, bool HigherIsBetter, string Format = "F0");

/// <summary>
/// Every round's value of every metric, per broker; printed as one table of medians with the ratio gateway/RabbitMQ.
/// Rows keep the order in which they were first recorded.
/// </summary>
internal sealed class ResultTable
{
    private readonly List<Metric> _metrics = [];
    private readonly Dictionary<(Metric, string), List<double>> _values = [];
    private readonly Dictionary<Metric, Func<string, double?>> _derived = [];

    public void Record(Metric metric, string broker, double value)
    {
        if (!_metrics.Contains(metric))
        {
            _metrics.Add(metric);
        }

        if (!_values.TryGetValue((metric, broker), out List<double>? values))
        {
            _values[(metric, broker)] = values = [];
        }

        values.Add(value);
    }

    /// <summary>Fixes a row's place in the table; it shows n/a for a broker on which its workload failed.</summary>
    public void Declare(Metric metric)
    {
        if (!_metrics.Contains(metric))
        {
            _metrics.Add(metric);
        }
    }

    /// <summary>A row computed from other rows' medians (per broker) when the table is printed.</summary>
    public void Derive(Metric metric, Func<string, double?> value)
    {
        Declare(metric);
        _derived[metric] = value;
    }

    public double? Median(Metric metric, string broker)
    {
        if (!_values.TryGetValue((metric, broker), out List<double>? values) || values.Count == 0)
        {
            return null;
        }

        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    public int Count(Metric metric, string broker) =>
        _values.TryGetValue((metric, broker), out List<double>? values) ? values.Count : 0;

    public void Print(IReadOnlyList<string> brokers, int rounds)
    {
        var rows = _metrics.Select(metric => (metric, _derived.GetValueOrDefault(metric) ?? (broker => Median(metric, broker)))).ToList();
        int labelWidth = Math.Max(20, rows.Max(row => Label(row.Item1).Length));
        var header = new List<string> { "metric".PadRight(labelWidth) };
        header.AddRange(brokers.Select(broker => broker.PadLeft(12)));
        bool compare = brokers.Count == 2;
        if (compare)
        {
            header.Add("ratio".PadLeft(8));
        }

        header.Add("  better");
        Console.WriteLine(string.Join(" ", header));
        foreach ((Metric metric, Func<string, double?> value) in rows)
        {
            var cells = new List<string> { Label(metric).PadRight(labelWidth) };
            double?[] medians = [.. brokers.Select(value)];
            cells.AddRange(medians.Select(median => Format(median, metric).PadLeft(12)));
            if (compare)
            {
                cells.Add((medians[0] is { } a && medians[1] is { } b && b != 0
                    ? (a / b).ToString("F2", CultureInfo.InvariantCulture) + "x"
                    : "n/a").PadLeft(8));
            }

            cells.Add("  " + (metric.HigherIsBetter ? "higher" : "lower"));
            string incomplete = string.Join(", ", brokers
                .Where(broker => Count(metric, broker) is > 0 and var n && n < rounds)
                .Select(broker => $"{broker}: {Count(metric, broker)} of {rounds} rounds"));
            Console.WriteLine(string.Join(" ", cells) + (incomplete.Length > 0 ? $"  ({incomplete})" : ""));
        }
    }

    private static string Label(Metric metric) => $"{metric.Label}, {metric.Unit}";

    private static string Format(double? value, Metric metric) =>
        value is { } v ? v.ToString(metric.Format, CultureInfo.InvariantCulture) : "n/a";
}
