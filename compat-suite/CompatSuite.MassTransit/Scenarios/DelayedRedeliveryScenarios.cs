using CompatSuite.MassTransit.Fixtures;
using MassTransit;

namespace CompatSuite.MassTransit.Scenarios;

/// <summary>
/// MassTransit's delayed redelivery (second-level retry) through the x-delayed-message exchange
/// (UseDelayedMessageScheduler + UseDelayedRedelivery): a consumer that fails twice gets the message back
/// after each interval with its redelivery count, and succeeds the third time; nothing reaches the error
/// queue. Needs the delayed message exchange type: the gateway has it built in; RabbitMQ needs the community
/// plugin, which Debian's package does not ship, so the scenario is skipped there with that reason.
/// </summary>
public sealed class DelayedRedeliveryScenarios
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [SkippableFact]
    public async Task A_failing_message_is_redelivered_after_each_interval_and_then_consumed()
    {
        Skip.IfNot(await BrokerAdmin.HasDelayedMessageExchangeAsync(), BrokerAdmin.NeedsDelayedMessagePlugin);

        var runId = Guid.NewGuid();
        string queue = $"compat-mt-invoices-{runId.ToString("N")[..12]}";
        var attempts = new List<(DateTime At, int RedeliveryCount)>();
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var bus = await TestBus.StartAsync(cfg =>
            {
                cfg.UseDelayedMessageScheduler();
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.UseDelayedRedelivery(r => r.Intervals(Interval, Interval));
                    e.Handler<SettleInvoice>(context =>
                    {
                        if (context.Message.RunId != runId)
                        {
                            return Task.CompletedTask;
                        }

                        lock (attempts)
                        {
                            attempts.Add((DateTime.UtcNow, context.GetRedeliveryCount()));
                            if (attempts.Count < 3)
                            {
                                throw new InvalidOperationException("not yet");
                            }
                        }

                        settled.TrySetResult();
                        return Task.CompletedTask;
                    });
                });
            });

            ISendEndpoint endpoint = await bus.Instance.GetSendEndpoint(new Uri($"queue:{queue}"));
            await endpoint.Send(new SettleInvoice(runId, "INV-7"), TestBus.OperationTimeout());
            await settled.Task.WaitAsync(TimeSpan.FromSeconds(30));

            lock (attempts)
            {
                Assert.Equal([0, 1, 2], attempts.Select(a => a.RedeliveryCount));
                for (int i = 1; i < attempts.Count; i++)
                {
                    // Redelivered after the interval, not at once (a little slack for timer granularity).
                    Assert.True(attempts[i].At - attempts[i - 1].At >= Interval - TimeSpan.FromMilliseconds(100), $"attempt {i} came after {attempts[i].At - attempts[i - 1].At}");
                }
            }

            Assert.Equal(0u, await BrokerAdmin.MessageCountAsync($"{queue}_error") ?? 0u);
        }
        finally
        {
            await BrokerAdmin.DeleteAsync([queue, $"{queue}_error", $"{queue}_skipped"], [queue, $"{queue}_error", $"{queue}_skipped", $"{queue}_delay"]);
        }
    }
}
