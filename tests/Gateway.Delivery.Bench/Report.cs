using System.Globalization;

namespace Gateway.Delivery.Bench;

/// <summary>The compact tables: one per broker, and gateway/RabbitMQ ratios when both ran.</summary>
internal static class Report
{
    /// <summary>The issue's target: cold-queue p99 with the hot queue within 2x of its value without it.</summary>
    public const double TargetP99Ratio = 2.0;

    public static void PrintRun(RunResult run)
    {
        Line($"{"broker",-9} {"phase",-11} {"cold sent",9} {"missing",7} {"dup",4} {"p50 ms",8} {"p99 ms",8} {"max ms",8} ",
             $"{"conf p50",8} {"conf p99",8} {"d-c p50",8} {"d-c p99",8} {"hot del/s",10} {"hot conf/s",10} {"hot lag p50",11} {"tick p99",8}");
        foreach (PhaseResult phase in new[] { run.Baseline, run.WithHot })
        {
            Line($"{run.Broker,-9} {phase.Name,-11} {phase.ColdPublished,9} {phase.ColdMissing,7} {phase.ColdDuplicates,4} ",
                 $"{phase.ColdDelivery.P50,8:F2} {phase.ColdDelivery.P99,8:F2} {phase.ColdDelivery.Max,8:F2} ",
                 $"{phase.ColdConfirm.P50,8:F2} {phase.ColdConfirm.P99,8:F2} ",
                 $"{phase.ColdDeliveryAfterConfirm.P50,8:F2} {phase.ColdDeliveryAfterConfirm.P99,8:F2} ",
                 $"{Rate(phase.HotDeliveredPerSecond),10} {Rate(phase.HotConfirmedPerSecond),10} {Ms(phase.HotLag.P50),11} {phase.ClientTick.P99,8:F2}");
        }

        Line($"{run.Broker}: cold p99 with hot / without = {run.P99Ratio:F2}x ",
             $"(target <= {TargetP99Ratio:F0}x: {(run.P99Ratio <= TargetP99Ratio ? "met" : "MISSED")}); ",
             $"cold max with hot {run.WithHot.ColdDelivery.Max:F2} ms; set-up {run.Setup.TotalSeconds:F1} s");
    }

    // Delivery − confirm is left out here: RabbitMQ delivers before its fsync, the gateway after, so a ratio means nothing.
    public static void PrintComparison(RunResult gateway, RunResult rabbit)
    {
        Line($"{"gateway / rabbitmq",-28} {"gateway",10} {"rabbitmq",10} {"ratio",7}");
        Row("cold p50 ms, cold only", gateway.Baseline.ColdDelivery.P50, rabbit.Baseline.ColdDelivery.P50);
        Row("cold p99 ms, cold only", gateway.Baseline.ColdDelivery.P99, rabbit.Baseline.ColdDelivery.P99);
        Row("cold max ms, cold only", gateway.Baseline.ColdDelivery.Max, rabbit.Baseline.ColdDelivery.Max);
        Row("cold p50 ms, cold + hot", gateway.WithHot.ColdDelivery.P50, rabbit.WithHot.ColdDelivery.P50);
        Row("cold p99 ms, cold + hot", gateway.WithHot.ColdDelivery.P99, rabbit.WithHot.ColdDelivery.P99);
        Row("cold max ms, cold + hot", gateway.WithHot.ColdDelivery.Max, rabbit.WithHot.ColdDelivery.Max);
        Row("p99 ratio (with / without)", gateway.P99Ratio, rabbit.P99Ratio);
        Row("hot delivered msg/s", gateway.WithHot.HotDeliveredPerSecond, rabbit.WithHot.HotDeliveredPerSecond);
    }

    private static void Row(string name, double gateway, double rabbit) =>
        Line($"{name,-28} {gateway,10:F2} {rabbit,10:F2} {gateway / rabbit,6:F2}x");

    private static string Rate(double perSecond) =>
        double.IsNaN(perSecond) ? "-" : perSecond.ToString("F0", CultureInfo.InvariantCulture);

    private static string Ms(double milliseconds) =>
        double.IsNaN(milliseconds) ? "-" : milliseconds.ToString("F1", CultureInfo.InvariantCulture);

    // Parts rather than one long interpolated string: each is formatted with the invariant culture.
    private static void Line(params FormattableString[] parts) =>
        Console.WriteLine(string.Concat(parts.Select(part => part.ToString(CultureInfo.InvariantCulture))));
}
