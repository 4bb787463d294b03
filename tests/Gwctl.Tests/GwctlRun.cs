// The environment-variable tests set GWCTL_* for the whole process; every test here is quick, so they run one by one.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Gwctl.Tests;

/// <summary>One gwctl invocation in-process: its exit code and what it wrote to stdout and stderr.</summary>
internal sealed record GwctlRun(int ExitCode, string Out, string Error)
{
    public static async Task<GwctlRun> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await GwctlCli.InvokeAsync(args, output, error);
        return new GwctlRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The table rows (ASCII borders, as written when not on a terminal), each as its trimmed cells.</summary>
    public IReadOnlyList<string[]> Rows =>
        [.. Out.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.StartsWith('|') && !line.StartsWith("|-", StringComparison.Ordinal))
            .Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray())];

    /// <summary>The row whose cells include all of <paramref name="cells"/>.</summary>
    public string[] Row(params string[] cells) => Assert.Single(Rows, row => cells.All(row.Contains));

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}
