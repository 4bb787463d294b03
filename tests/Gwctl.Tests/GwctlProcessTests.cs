using System.Diagnostics;
using TestSupport;

namespace Gwctl.Tests;

/// <summary>
/// The built gwctl as a script runs it: a child process whose stdout and stderr are pipes, so Console.Out
/// itself is redirected (the in-process tests hand gwctl writers instead). With a terminal type that invites
/// colour, the output must still be plain text.
/// </summary>
public sealed class GwctlProcessTests : IAsyncLifetime
{
    /// <summary>Makes the table far wider than the 80 columns Spectre assumes when it cannot ask a terminal.</summary>
    private static readonly string LongName = "orders.retry." + new string('x', 120);

    private FakeController _controller = null!;

    public async Task InitializeAsync()
    {
        _controller = await FakeController.StartAsync();
        _controller.Queues =
        [
            new Controller.Contracts.QueueView("/", "orders", ["gw-a"], 12, 0, 1, 3.25, 3, 3, 0, true, 1, null),
            new Controller.Contracts.QueueView("/", LongName, ["gw-a"], 0, 0, 0, 0, 0, 0, 0, false, 0, null),
        ];
    }

    public async Task DisposeAsync() => await _controller.DisposeAsync();

    private async Task<GwctlRun> RunProcessAsync(params string[] args)
    {
        string gwctl = Path.Combine(AppContext.BaseDirectory, "gwctl.dll");
        // The test host runs on the dotnet host; use the same one for the child.
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(gwctl);
        foreach (string arg in (string[])[.. args, "--controller", _controller.Url.ToString(), "--token", _controller.Token])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TERM"] = "xterm-256color";
        start.Environment["COLORTERM"] = "truecolor";
        start.Environment.Remove("NO_COLOR");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new GwctlRun(process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Redirected_output_is_plain_text_with_ascii_borders()
    {
        var run = await RunProcessAsync("queues");

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain('\u001b', run.Out);
        Assert.StartsWith("+---", run.Out, StringComparison.Ordinal);
        Assert.Equal(["/", "orders", "12", "0", "1", "3.3", "3.0", "3.0", "0.0", "yes", "no", "gw-a"], run.Row("orders"));
        run.Row(LongName);   // on one line, not wrapped
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task Exit_codes_and_the_error_line_reach_the_calling_script()
    {
        var nothingPaused = await RunProcessAsync("resume", "orders");
        var badRate = await RunProcessAsync("throttle", "orders", "--rate", "-5");

        Assert.Equal(3, nothingPaused.ExitCode);
        Assert.Equal("gwctl: nothing matched", nothingPaused.Error.Split(" (")[0]);
        Assert.DoesNotContain('\u001b', nothingPaused.Error);
        Assert.Equal(2, badRate.ExitCode);
        Assert.Single(badRate.Error.TrimEnd().Split('\n'));
    }
}
