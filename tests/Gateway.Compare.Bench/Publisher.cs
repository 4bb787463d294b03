using System.Diagnostics;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>A count shared between publisher or consumer callbacks and the thread that samples a rate.</summary>
internal sealed class Counter
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Add(long amount = 1) => Interlocked.Add(ref _value, amount);
}

/// <summary>
/// Bounds how far a publisher may run ahead of its consumers: a message takes one credit per queue it reaches and
/// each delivery gives one back. Without it a publisher that outruns the consumers measures a growing queue
/// (and, on RabbitMQ, its flow control) instead of end-to-end throughput.
/// </summary>
internal sealed class DeliveryCredit(int perQueue, int queues)
{
    private readonly SemaphoreSlim _credits = new(perQueue * queues);

    public async ValueTask TakeAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < queues; i++)
        {
            await _credits.WaitAsync(cancellationToken);
        }
    }

    public void Return() => _credits.Release();
}

/// <summary>What one publisher sends: where, how big, persistent or not, and how much may be outstanding.</summary>
/// <param name="ConfirmWindow">Publishes awaiting their confirm at most; 0 publishes without confirms (the channel
/// must then be a plain one) and counts a message once the client has written it.</param>
/// <param name="Limit">Messages to send at most; the loop also ends when its token fires.</param>
/// <param name="Credit">Optional bound on messages not yet delivered to the consumers.</param>
internal sealed record PublishPlan(string Exchange, string RoutingKey, ReadOnlyMemory<byte> Body, bool Persistent, int ConfirmWindow,
    long Limit = long.MaxValue, DeliveryCredit? Credit = null);

/// <summary>
/// The publish loop of every workload. With confirms it keeps at most <see cref="PublishPlan.ConfirmWindow"/> publishes
/// awaiting their ack (a semaphore taken before a publish, returned at its confirm), as an application with a
/// bounded pipeline does: one message at a time would measure round trips, an unbounded pipeline the brokers' flow
/// control.
/// </summary>
internal static class Publisher
{
    /// <summary>
    /// Publishes until the plan's limit or until <paramref name="stop"/> fires, then waits for the confirms still
    /// outstanding. <paramref name="published"/> counts acks (or writes, without confirms) as they happen. A nack
    /// or a closed channel ends the loop with an exception.
    /// </summary>
    public static async Task RunAsync(IChannel channel, PublishPlan plan, Counter published, CancellationToken stop)
    {
        int window = Math.Max(plan.ConfirmWindow, 1);
        using var inFlight = new SemaphoreSlim(window, window);
        Exception? failure = null;
        long sent = 0;
        try
        {
            while (sent < plan.Limit && Volatile.Read(ref failure) is null)
            {
                if (plan.Credit is not null)
                {
                    await plan.Credit.TakeAsync(stop);
                }

                sent++;
                if (plan.ConfirmWindow == 0)
                {
                    // Not cancellable half-way: the window's end must not cut a message's frames short.
                    await channel.BasicPublishAsync(plan.Exchange, plan.RoutingKey, mandatory: false, Properties(plan), plan.Body,
                        CancellationToken.None);
                    published.Add();
                    continue;
                }

                await inFlight.WaitAsync(stop);
                _ = PublishConfirmedAsync();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the measured window is over; what is in flight is still awaited below
        }

        for (int i = 0; i < window; i++)
        {
            await inFlight.WaitAsync(CancellationToken.None);
        }

        if (failure is not null)
        {
            throw new InvalidOperationException($"publish failed: {failure.Message}", failure);
        }

        async Task PublishConfirmedAsync()
        {
            try
            {
                await channel.BasicPublishAsync(plan.Exchange, plan.RoutingKey, mandatory: false, Properties(plan), plan.Body,
                    CancellationToken.None);
                published.Add();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.CompareExchange(ref failure, e, null);
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    // A fresh properties object per message, as applications do; with confirm tracking the client may add to it.
    private static BasicProperties Properties(PublishPlan plan) =>
        new() { DeliveryMode = plan.Persistent ? DeliveryModes.Persistent : DeliveryModes.Transient };
}

/// <summary>Turns a running count into a rate over a window that starts after a warm-up.</summary>
internal static class RateWindow
{
    /// <summary>
    /// The rate of <paramref name="counter"/> over <see cref="CompareOptions.Window"/>, counted from the end of the
    /// warm-up. Fails at once when <paramref name="load"/> ends first, since that means the load failed.
    /// </summary>
    public static async Task<double> MeasureAsync(Counter counter, Task load, CompareOptions options, CancellationToken cancellationToken)
    {
        Task<double> measuring = WindowAsync();
        if (await Task.WhenAny(measuring, load) == load)
        {
            await load;
            throw new InvalidOperationException("the load stopped before the measured window ended");
        }

        return await measuring;

        async Task<double> WindowAsync()
        {
            await Task.Delay(options.Warmup, cancellationToken);
            long start = counter.Value;
            var clock = Stopwatch.StartNew();
            await Task.Delay(options.Window, cancellationToken);
            long end = counter.Value;
            return (end - start) / clock.Elapsed.TotalSeconds;
        }
    }
}
