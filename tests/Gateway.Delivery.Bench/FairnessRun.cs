using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static System.FormattableString;

namespace Gateway.Delivery.Bench;

/// <summary>One phase's numbers: cold-queue latency (publish → consumer callback), and the hot queue's rates.</summary>
internal sealed record PhaseResult(
    string Name,
    TimeSpan Elapsed,
    int ColdPublished,
    Percentiles ColdDelivery,
    Percentiles ColdConfirm,
    Percentiles ColdDeliveryAfterConfirm,
    int ColdDuplicates,
    double HotDeliveredPerSecond,
    double HotConfirmedPerSecond,
    Percentiles HotLag,
    Percentiles ClientTick)
{
    public int ColdMissing => ColdPublished - ColdDelivery.Count;
}

internal sealed record RunResult(string Broker, TimeSpan Setup, PhaseResult Baseline, PhaseResult WithHot)
{
    public double P99Ratio => WithHot.ColdDelivery.P99 / Baseline.ColdDelivery.P99;
}

/// <summary>
/// The workload of issue 5, against one broker by AMQP URL:
/// <list type="bullet">
/// <item>N cold queues, one consumer each (manual ack, ack on receipt, per-consumer prefetch), spread evenly over
/// <c>connections × channels</c> channels; a publisher on its own connection sends one message at a time to a random
/// cold queue at a fixed total rate (confirms on, never waited for before the next send).</item>
/// <item>One hot queue with one consumer (its own connection, acking every message) fed by a publisher on another
/// connection as fast as confirms come back (or at most <see cref="BenchOptions.HotRate"/>), in batches of
/// <see cref="BenchOptions.HotBatch"/>.</item>
/// </list>
/// Phase 1 is the cold trickle alone, phase 2 the same trickle while the hot queue runs. Every message is durable
/// and persistent on both brokers. Queues are deleted at the end.
/// </summary>
internal sealed class FairnessRun : IAsyncDisposable
{
    private const string ColdPrefix = "delivery-bench.cold.";
    private const string HotQueue = "delivery-bench.hot";
    private const int ColdBodySize = 64;
    private const int PhaseWarmup = 0;
    private const int PhaseBaseline = 1;
    private const int PhaseWithHot = 2;

    private readonly BenchOptions _options;
    private readonly string _broker;
    private readonly ConnectionFactory _factory;
    private readonly List<IConnection> _connections = [];
    private readonly List<(IChannel Channel, string[] Queues)> _coldChannels = [];
    private readonly ColdPhase?[] _cold = new ColdPhase?[3];
    private IChannel? _coldPublisher;
    private IChannel? _hotConsumer;
    private IChannel? _hotPublisher;
    private LatencySamples? _hotLag;
    private long _hotDelivered;
    private long _hotConfirmed;

    private FairnessRun(string broker, string url, BenchOptions options)
    {
        _broker = broker;
        _options = options;
        _factory = new ConnectionFactory
        {
            Uri = new Uri(url),
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ConsumerDispatchConcurrency = 1,
        };
    }

    public static async Task<RunResult> RunAsync(string broker, string url, BenchOptions options, CancellationToken cancellationToken)
    {
        await using var run = new FairnessRun(broker, url, options);
        try
        {
            var setup = Stopwatch.StartNew();
            await run.SetUpAsync(cancellationToken);
            setup.Stop();
            run.Log(Invariant($"set up {options.ColdQueues} cold queues and consumers in {setup.Elapsed.TotalSeconds:F1} s"));

            if (options.Warmup > TimeSpan.Zero)
            {
                await run.ColdPhaseAsync(PhaseWarmup, "warm-up", options.Warmup, cancellationToken);
            }

            PhaseResult baseline = await run.ColdPhaseAsync(PhaseBaseline, "cold only", options.Phase, cancellationToken);
            PhaseResult withHot = await run.WithHotAsync(cancellationToken);
            return new RunResult(broker, setup.Elapsed, baseline, withHot);
        }
        finally
        {
            await run.CleanUpAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IConnection connection in _connections)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log($"closing {connection.ClientProvidedName}: {e.Message}");
            }

            connection.Dispose();
        }
    }

    private static string ColdQueue(int index) => ColdPrefix + index.ToString("D5", CultureInfo.InvariantCulture);

    private void Log(string text) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.UtcNow:HH:mm:ss.fff} {_broker}] {text}"));

    private async Task<IConnection> ConnectAsync(string name, CancellationToken cancellationToken)
    {
        IConnection connection = await _factory.CreateConnectionAsync($"delivery-bench {name}", cancellationToken);
        connection.ConnectionShutdownAsync += (_, e) =>
        {
            if (e.Initiator != ShutdownInitiator.Application)
            {
                Log($"connection '{name}' closed by {e.Initiator}: {e.ReplyCode} {e.ReplyText}");
            }

            return Task.CompletedTask;
        };
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return connection;
    }

    private async Task SetUpAsync(CancellationToken cancellationToken)
    {
        int channels = _options.Connections * _options.ChannelsPerConnection;
        // Queue i lives on channel i % channels: every channel carries the same number of consumers (±1).
        string[][] queuesByChannel = Enumerable.Range(0, channels)
            .Select(c => Enumerable.Range(0, _options.ColdQueues).Where(i => i % channels == c).Select(ColdQueue).ToArray())
            .ToArray();
        var ready = new (IChannel, string[])[channels];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, _options.Connections),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Connections, CancellationToken = cancellationToken },
            async (c, ct) =>
            {
                IConnection connection = await ConnectAsync($"cold-{c}", ct);
                for (int k = 0; k < _options.ChannelsPerConnection; k++)
                {
                    int index = c * _options.ChannelsPerConnection + k;
                    IChannel channel = await connection.CreateChannelAsync(cancellationToken: ct);
                    await channel.BasicQosAsync(0, _options.ColdPrefetch, global: false, ct);
                    foreach (string queue in queuesByChannel[index])
                    {
                        await DeclareEmptyAsync(channel, queue, ct);
                        var consumer = new AsyncEventingBasicConsumer(channel);
                        consumer.ReceivedAsync += (_, delivery) => OnColdDeliveryAsync(channel, delivery);
                        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, ct);
                    }

                    ready[index] = (channel, queuesByChannel[index]);
                }
            });
        _coldChannels.AddRange(ready);

        // Publishers track confirms themselves (no client-side limiter: the loops below bound what is in flight).
        var confirms = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: null);
        _coldPublisher = await (await ConnectAsync("cold-publisher", cancellationToken)).CreateChannelAsync(confirms, cancellationToken);
        _hotPublisher = await (await ConnectAsync("hot-publisher", cancellationToken)).CreateChannelAsync(confirms, cancellationToken);
        _hotConsumer = await (await ConnectAsync("hot-consumer", cancellationToken)).CreateChannelAsync(cancellationToken: cancellationToken);
        await _hotConsumer.BasicQosAsync(0, _options.HotPrefetch, global: false, cancellationToken);
        await DeclareEmptyAsync(_hotConsumer, HotQueue, cancellationToken);
    }

    // Durable queue; leftovers of an interrupted earlier run are purged so they do not count.
    private static async Task DeclareEmptyAsync(IChannel channel, string queue, CancellationToken cancellationToken)
    {
        QueueDeclareOk ok = await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            cancellationToken: cancellationToken);
        if (ok.MessageCount > 0)
        {
            await channel.QueuePurgeAsync(queue, cancellationToken);
        }
    }

    // Body: [0, 8) publish timestamp, [8, 12) sequence number within the phase, [12] phase.
    private async Task OnColdDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery)
    {
        long received = Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> body = delivery.Body.Span;
        if (body.Length >= 13 && body[12] < _cold.Length)
        {
            long published = BinaryPrimitives.ReadInt64LittleEndian(body);
            int sequence = BinaryPrimitives.ReadInt32LittleEndian(body[8..]);
            Volatile.Read(ref _cold[body[12]])?.Delivered(sequence, published, received);
        }

        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
    }

    private async Task OnHotDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery)
    {
        long received = Stopwatch.GetTimestamp();
        long published = BinaryPrimitives.ReadInt64LittleEndian(delivery.Body.Span);
        Interlocked.Increment(ref _hotDelivered);
        Volatile.Read(ref _hotLag)?.Add(LatencySamples.Milliseconds(published, received));
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
    }

    /// <summary>
    /// Sends the cold trickle for <paramref name="duration"/>: at every tick (≈1 ms) as many messages as the rate
    /// says are due by now, each to a random cold queue, without waiting for the previous one's confirm. Then
    /// waits for the confirms and for the consumers to receive every message (at most <see cref="BenchOptions.Drain"/>).
    /// </summary>
    private async Task<PhaseResult> ColdPhaseAsync(int phase, string name, TimeSpan duration, CancellationToken cancellationToken,
        Func<TimeSpan, (double HotDelivered, double HotConfirmed, Percentiles HotLag)>? hot = null)
    {
        var cold = new ColdPhase(phase, (int)Math.Ceiling((duration.TotalSeconds + 1) * _options.ColdRate));
        Volatile.Write(ref _cold[phase], cold);
        var pending = new List<Task>();
        int published = 0;
        // The gaps between ticks of this loop (asked for 1 ms) show how starved the benchmark process itself is.
        var ticks = new LatencySamples();
        long lastTick = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            long tick = Stopwatch.GetTimestamp();
            ticks.Add(LatencySamples.Milliseconds(lastTick, tick));
            lastTick = tick;
            long due = (long)(clock.Elapsed.TotalSeconds * _options.ColdRate);
            while (published < due && published < cold.Capacity)
            {
                pending.Add(PublishColdAsync(cold, published++));
            }

            await Task.Delay(1, cancellationToken);
        }

        TimeSpan elapsed = clock.Elapsed;
        var hotNumbers = hot?.Invoke(elapsed) ?? (double.NaN, double.NaN, new Percentiles(0, double.NaN, double.NaN, double.NaN));
        await Task.WhenAll(pending);
        var drain = Stopwatch.StartNew();
        while (cold.Delivery.Count < published && drain.Elapsed < _options.Drain)
        {
            await Task.Delay(20, cancellationToken);
        }

        var result = new PhaseResult(name, elapsed, published, cold.Delivery.Summarise(), cold.Confirm.Summarise(),
            cold.DeliveryAfterConfirm(), cold.Delivery.Duplicates, hotNumbers.HotDelivered, hotNumbers.HotConfirmed, hotNumbers.HotLag,
            ticks.Summarise());
        Log(Invariant($"{name}: {published} cold messages in {elapsed.TotalSeconds:F1} s, received {result.ColdDelivery.Count}, ") +
            Invariant($"p50 {result.ColdDelivery.P50:F2} ms, p99 {result.ColdDelivery.P99:F2} ms, max {result.ColdDelivery.Max:F2} ms") +
            (hot is null ? "" : Invariant($"; hot {result.HotDeliveredPerSecond:F0} msg/s delivered")));
        return result;
    }

    private async Task PublishColdAsync(ColdPhase cold, int sequence)
    {
        byte[] body = new byte[ColdBodySize];
        string queue = ColdQueue(Random.Shared.Next(_options.ColdQueues));
        long published = Stopwatch.GetTimestamp();
        BinaryPrimitives.WriteInt64LittleEndian(body, published);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), sequence);
        body[12] = (byte)cold.Phase;
        // A fresh properties object per message: with confirm tracking the client adds a header to it.
        await _coldPublisher!.BasicPublishAsync("", queue, mandatory: false,
            new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, body);
        cold.Confirmed(sequence, published, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Phase 2: the hot consumer and publisher start, run for <see cref="BenchOptions.Ramp"/>, then the cold trickle
    /// runs as in phase 1 while the hot queue's deliveries and confirms are counted over the same window.
    /// </summary>
    private async Task<PhaseResult> WithHotAsync(CancellationToken cancellationToken)
    {
        IChannel consumerChannel = _hotConsumer!;
        var consumer = new AsyncEventingBasicConsumer(consumerChannel);
        consumer.ReceivedAsync += (_, delivery) => OnHotDeliveryAsync(consumerChannel, delivery);
        await consumerChannel.BasicConsumeAsync(HotQueue, autoAck: false, consumer, cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task publisher = HotPublishLoopAsync(stop.Token);
        try
        {
            await Task.Delay(_options.Ramp, cancellationToken);
            long delivered0 = Interlocked.Read(ref _hotDelivered);
            long confirmed0 = Interlocked.Read(ref _hotConfirmed);
            var lag = new LatencySamples();
            Volatile.Write(ref _hotLag, lag);
            return await ColdPhaseAsync(PhaseWithHot, "cold + hot", _options.Phase, cancellationToken, elapsed =>
            {
                double seconds = elapsed.TotalSeconds;
                double delivered = (Interlocked.Read(ref _hotDelivered) - delivered0) / seconds;
                double confirmed = (Interlocked.Read(ref _hotConfirmed) - confirmed0) / seconds;
                Volatile.Write(ref _hotLag, null);
                return (delivered, confirmed, lag.Summarise());
            });
        }
        finally
        {
            await stop.CancelAsync();
            await publisher;
        }
    }

    // Publishes batches of HotBatch persistent messages and waits for all their confirms before the next batch;
    // with --hot-rate, a batch also waits until the rate allows it. The body starts with the batch's publish
    // timestamp (the hot lag column).
    private async Task HotPublishLoopAsync(CancellationToken stop)
    {
        await Task.Yield();
        byte[] body = new byte[_options.HotBodySize];
        Random.Shared.NextBytes(body);
        var batch = new Task[_options.HotBatch];
        var clock = Stopwatch.StartNew();
        long sent = 0;
        while (!stop.IsCancellationRequested)
        {
            if (_options.HotRate > 0)
            {
                TimeSpan due = TimeSpan.FromSeconds(sent / _options.HotRate);
                if (due > clock.Elapsed)
                {
                    try
                    {
                        await Task.Delay(due - clock.Elapsed, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            sent += batch.Length;
            BinaryPrimitives.WriteInt64LittleEndian(body, Stopwatch.GetTimestamp());
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i] = _hotPublisher!.BasicPublishAsync("", HotQueue, mandatory: false,
                    new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, body).AsTask();
            }

            await Task.WhenAll(batch);
            Interlocked.Add(ref _hotConfirmed, batch.Length);
        }
    }

    // Each cold channel deletes its own queues (their consumers go with them), all channels in parallel.
    private async Task CleanUpAsync()
    {
        var clock = Stopwatch.StartNew();
        int deleted = 0;
        try
        {
            await Parallel.ForEachAsync(_coldChannels, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (entry, ct) =>
            {
                foreach (string queue in entry.Queues)
                {
                    await entry.Channel.QueueDeleteAsync(queue, cancellationToken: ct);
                    Interlocked.Increment(ref deleted);
                }
            });
            if (_hotConsumer is { IsOpen: true })
            {
                await _hotConsumer.QueueDeleteAsync(HotQueue);
                deleted++;
            }

            Log(Invariant($"deleted {deleted} queues in {clock.Elapsed.TotalSeconds:F1} s"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log($"clean-up stopped after {deleted} queues: {e.Message}");
        }
    }
}
