using Gateway.Broker.Queues;

namespace Gateway.Broker.Tests.Queues;

/// <summary>The expiry-sweep runner's timer, on the real clock (a fake one does not enforce the timer's range).</summary>
public sealed class ExpirySweepsTests
{
    [Fact]
    public async Task A_head_that_expires_beyond_the_longest_timer_still_gets_a_timer()
    {
        // An expiration of 2^33 ms (RabbitMQ accepts such values) is far beyond what a timer can wait; setting it
        // must not throw on the thread pool, where it would end the process.
        var swept = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sweeps = new ExpirySweeps(TimeProvider.System, () =>
        {
            swept.TrySetResult();
            return DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (1L << 33);
        });
        sweeps.Request();
        await swept.Task.WaitAsync(TimeSpan.FromSeconds(10));
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!sweeps.TimerSet && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(sweeps.TimerSet);
    }
}
