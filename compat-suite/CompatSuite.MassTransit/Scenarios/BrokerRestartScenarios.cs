using System.Collections.Concurrent;
using System.Diagnostics;
using CompatSuite.MassTransit.Fixtures;
using MassTransit;
using Xunit.Abstractions;

namespace CompatSuite.MassTransit.Scenarios;

/// <summary>
/// The broker process is killed and started again while MassTransit publishes with confirmations. A publish
/// that returned was confirmed by the broker, and RabbitMQ confirms a persistent message to a durable queue
/// only once it is on disk, so every such message must reach the consumer after MassTransit reconnects.
/// Redeliveries (a message delivered before the kill but not yet acked) are allowed; losses are not.
/// </summary>
public sealed class BrokerRestartScenarios(ITestOutputHelper output)
{
    /// <summary>Shell command (run with bash -c) that kills the broker abruptly and starts it again on the same
    /// address and data, exiting 0 once it listens again. .ci/run sets it (scripts/restart-broker.sh).</summary>
    public const string RestartCommandVariable = "BROKER_RESTART_COMMAND";

    private const int ConcurrentPublishers = 4;
    private const int ConfirmedBeforeRestart = 200;
    private const int ConfirmedAfterRestart = 200;
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromSeconds(180);

    [SkippableFact]
    public async Task Every_confirmed_publish_arrives_after_the_broker_is_killed_and_restarted_mid_stream()
    {
        string? restartCommand = Environment.GetEnvironmentVariable(RestartCommandVariable);
        Skip.If(string.IsNullOrWhiteSpace(restartCommand),
            $"{RestartCommandVariable} is not set: this scenario needs a command that kills and restarts the broker under test");

        var runId = Guid.NewGuid();
        string queue = $"compat-mt-shipments-{runId.ToString("N")[..12]}";
        var confirmed = new ConcurrentDictionary<int, bool>();
        var deliveries = new ConcurrentDictionary<int, int>();
        int failedPublishes = 0;

        try
        {
            await using var bus = await TestBus.StartAsync(cfg =>
                // Durable queue (MassTransit's default): it and its messages must outlive the broker process.
                cfg.ReceiveEndpoint(queue, e => e.Handler<ShipmentDispatched>(context =>
                {
                    if (context.Message.RunId == runId)
                    {
                        deliveries.AddOrUpdate(context.Message.Sequence, 1, (_, count) => count + 1);
                    }

                    return Task.CompletedTask;
                })));

            using var stopPublishing = new CancellationTokenSource();
            int nextSequence = -1;
            async Task PublishUntilStoppedAsync()
            {
                while (!stopPublishing.IsCancellationRequested)
                {
                    int sequence = Interlocked.Increment(ref nextSequence);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopPublishing.Token);
                    timeout.CancelAfter(PublishTimeout);
                    try
                    {
                        await bus.Instance.Publish(new ShipmentDispatched(runId, sequence), timeout.Token);
                        confirmed[sequence] = true;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // Expected while the broker is down: the message may or may not have been stored, and
                        // the scenario claims nothing about it. Back off a little instead of spinning.
                        Interlocked.Increment(ref failedPublishes);
                        await Task.Delay(100, CancellationToken.None);
                    }
                }
            }

            Task[] publishers = Enumerable.Range(0, ConcurrentPublishers).Select(_ => Task.Run(PublishUntilStoppedAsync)).ToArray();
            try
            {
                Assert.True(await Eventually.HoldsAsync(() => confirmed.Count >= ConfirmedBeforeRestart, TimeSpan.FromSeconds(60)),
                    $"only {confirmed.Count} publishes confirmed before the restart");

                (int exitCode, string output) = await RunRestartCommandAsync(restartCommand!);
                Assert.True(exitCode == 0, $"{RestartCommandVariable} exited {exitCode}: {output}");

                int confirmedAtRestart = confirmed.Count;
                Assert.True(await Eventually.HoldsAsync(() => confirmed.Count >= confirmedAtRestart + ConfirmedAfterRestart, TimeSpan.FromSeconds(120)),
                    $"MassTransit did not publish again after the restart: {confirmed.Count - confirmedAtRestart} confirmed since, {failedPublishes} publishes failed");
            }
            finally
            {
                await stopPublishing.CancelAsync();
                await Task.WhenAll(publishers);
            }

            int[] confirmedSequences = [.. confirmed.Keys.Order()];
            bool allDelivered = await Eventually.HoldsAsync(
                () => confirmedSequences.All(deliveries.ContainsKey), TimeSpan.FromSeconds(60));
            int[] lost = [.. confirmedSequences.Where(s => !deliveries.ContainsKey(s))];
            output.WriteLine($"{confirmedSequences.Length} publishes confirmed, {failedPublishes} failed around the restart, " +
                $"{deliveries.Count} distinct messages delivered, {deliveries.Values.Count(c => c > 1)} of them more than once");
            Assert.True(allDelivered,
                $"{lost.Length} of {confirmedSequences.Length} confirmed messages never arrived (first: {string.Join(", ", lost.Take(20))}); " +
                $"{failedPublishes} publishes failed during the restart");
        }
        finally
        {
            await BrokerAdmin.DeleteAsync([queue], [queue]);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunRestartCommandAsync(string command)
    {
        var startInfo = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(command);
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(RestartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{RestartCommandVariable} did not finish within {RestartTimeout}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
