using CompatSuite.Fixtures;
using Xunit.Abstractions;

namespace CompatSuite.Connection;

/// <summary>The Node.js client (amqplib) against the broker: compat-suite/amqplib/connect.js must exit 0.</summary>
public sealed class AmqplibScenarios(ITestOutputHelper output)
{
    private static readonly string ScriptDirectory = Path.Combine(ExternalProcess.RepositoryRoot, "compat-suite", "amqplib");

    [Fact]
    public async Task Amqplib_connects_opens_a_channel_and_closes()
    {
        if (!Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "amqplib")))
        {
            var install = await ExternalProcess.RunAsync(
                "npm", ["ci", "--no-audit", "--no-fund"], ScriptDirectory, TimeSpan.FromMinutes(3));
            output.WriteLine(install.Output);
            Assert.True(install.ExitCode == 0, $"npm ci failed ({install.ExitCode})");
        }

        var run = await ExternalProcess.RunAsync(
            "node",
            [Path.Combine("compat-suite", "amqplib", "connect.js")],
            ExternalProcess.RepositoryRoot,
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["AMQP_URL"] = Broker.Url.ToString() });
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"connect.js exited {run.ExitCode}: {run.Output}");
    }
}
