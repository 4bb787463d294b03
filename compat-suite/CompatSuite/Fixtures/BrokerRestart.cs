namespace CompatSuite.Fixtures;

/// <summary>
/// Crashes and restarts the broker under test through <c>BROKER_RESTART_COMMAND</c>: a shell command (run with
/// <c>bash -c</c>) that kills the broker abruptly and starts it again on the same address with the same data, exiting
/// 0 once it accepts AMQP connections again. <c>.ci/run</c> sets it to <c>scripts/restart-broker.sh</c> for each broker.
/// </summary>
public static class BrokerRestart
{
    public const string Variable = "BROKER_RESTART_COMMAND";

    /// <summary>RabbitMQ boots in 10–40 s on a busy two-core machine; the gateway in a few seconds.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string? Command => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } command ? command : null;

    /// <summary>
    /// Skips the calling <c>[SkippableFact]</c> when no restart command is configured: a restart scenario cannot
    /// pass without restarting the broker, and it must not look green when it did not run.
    /// </summary>
    public static void SkipUnlessConfigured() =>
        Skip.If(Command is null, $"{Variable} is not set: it must name a command that kills and restarts the broker at AMQP_URL (see compat-suite/README.md)");

    /// <summary>Runs the restart command and returns once the broker answers again; fails the scenario if it did not.</summary>
    public static async Task RestartAsync()
    {
        string command = Command ?? throw new InvalidOperationException($"{Variable} is not set");
        var (exitCode, output) = await ExternalProcess.RunAsync("bash", ["-c", command], ExternalProcess.RepositoryRoot, Timeout);
        Assert.True(exitCode == 0, $"'{command}' exited with {exitCode}:\n{output}");
    }
}
