using CompatSuite.Fixtures;
using Xunit.Abstractions;

namespace CompatSuite.Connection;

/// <summary>The Node.js client (amqplib) against the broker: the scripts in compat-suite/amqplib must exit 0.</summary>
public sealed class AmqplibScenarios(ITestOutputHelper output)
{
    private static readonly string ScriptDirectory = Path.Combine(ExternalProcess.RepositoryRoot, "compat-suite", "amqplib");

    [Fact]
    public Task Amqplib_connects_opens_a_channel_and_closes() => RunScriptAsync("connect.js");

    [Fact]
    public Task Amqplib_publishes_with_confirms_and_consumes_with_prefetch_nack_and_ack() => RunScriptAsync("messaging.js");

    private async Task RunScriptAsync(string script)
    {
        await InstallOnce.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "amqplib")))
            {
                var install = await ExternalProcess.RunAsync(
                    "npm", ["ci", "--no-audit", "--no-fund"], ScriptDirectory, TimeSpan.FromMinutes(3));
                output.WriteLine(install.Output);
                Assert.True(install.ExitCode == 0, $"npm ci failed ({install.ExitCode})");
            }
        }
        finally
        {
            InstallOnce.Release();
        }

        var run = await ExternalProcess.RunAsync(
            "node",
            [Path.Combine("compat-suite", "amqplib", script)],
            ExternalProcess.RepositoryRoot,
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["AMQP_URL"] = Broker.Url.ToString() });
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"{script} exited {run.ExitCode}: {run.Output}");
    }

    /// <summary>Both scenarios may run at once; npm ci must run once.</summary>
    private static readonly SemaphoreSlim InstallOnce = new(1, 1);
}
