using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Gateway.Benchmarks;

/// <summary>
/// Codec micro-benchmarks. Run all of them with
/// <c>dotnet run -c Release --project tests/Gateway.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick run). Frame benchmarks report per frame (OperationsPerInvoke),
/// so Op/s is frames per second and Allocated is bytes per frame.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        var config = DefaultConfig.Instance.AddColumn(StatisticColumn.OperationsPerSecond);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
