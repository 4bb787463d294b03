using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// One broker under test: its AMQP URL, a client factory, and its process (when known) for the memory rows. Every
/// queue and exchange a workload creates is named with <see cref="Prefix"/> and deleted by that workload.
/// </summary>
internal sealed class BrokerTarget
{
    public const string Prefix = "compare-bench.";

    /// <summary>Confirms in flight per publisher while a back-log is filled: deeper than the measured window, for speed.</summary>
    public const int FillWindow = 1024;

    private static readonly TimeSpan FillStallLimit = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan FillProgressInterval = TimeSpan.FromSeconds(30);

    private readonly ConnectionFactory _factory;
    private readonly int _port;
    private int? _pid;

    public BrokerTarget(string name, string url, int? pid)
    {
        Name = name;
        Url = url;
        _factory = new ConnectionFactory
        {
            Uri = new Uri(url),
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ConsumerDispatchConcurrency = 1,
            // Deleting or purging a queue of millions of messages can take RabbitMQ minutes; the client's default
            // 20 s wait for the reply would report a failure for a slow success.
            ContinuationTimeout = TimeSpan.FromMinutes(10),
        };
        Uri uri = _factory.Uri;
        _port = uri.Port > 0 ? uri.Port : uri.Scheme == "amqps" ? 5671 : 5672;
        _pid = pid;
    }

    public string Name { get; }

    public string Url { get; }

    /// <summary>
    /// The broker's process: the one given, else the listener on the URL's port, looked up until found (a broker
    /// still starting has no listener yet).
    /// </summary>
    public int? Pid => _pid ??= BrokerProcess.FindListener(_port);

    /// <summary>Publisher confirms on, tracked by the client: a publish's task completes at its ack (and throws on a nack).</summary>
    public static CreateChannelOptions ConfirmingChannel { get; } = new(publisherConfirmationsEnabled: true,
        publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null);

    public void Log(string text) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.UtcNow:HH:mm:ss.fff} {Name,-8}] {text}"));

    public Task<IConnection> ConnectAsync(string purpose, CancellationToken cancellationToken) =>
        _factory.CreateConnectionAsync($"compare-bench {purpose}", cancellationToken);

    /// <summary>A durable classic queue, emptied if an interrupted earlier run left messages in it.</summary>
    public static async Task DeclareEmptyQueueAsync(IChannel channel, string queue, CancellationToken cancellationToken)
    {
        QueueDeclareOk ok = await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            cancellationToken: cancellationToken);
        if (ok.MessageCount > 0)
        {
            await channel.QueuePurgeAsync(queue, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes queues (and an exchange) on a connection of its own, so that clean-up still works after a workload's
    /// channel failed; thousands of queues over a few channels at once, one round trip each.
    /// </summary>
    public async Task DeleteQueuesAsync(IReadOnlyCollection<string> queues, string? exchange = null)
    {
        const int channels = 8;
        try
        {
            await using IConnection connection = await ConnectAsync("clean-up", CancellationToken.None);
            await Parallel.ForEachAsync(queues.Chunk(Math.Max(1, (queues.Count + channels - 1) / channels)),
                new ParallelOptions { MaxDegreeOfParallelism = channels }, async (chunk, _) =>
            {
                await using IChannel channel = await connection.CreateChannelAsync();
                foreach (string queue in chunk)
                {
                    await channel.QueueDeleteAsync(queue);
                }

                await channel.CloseAsync();
            });

            if (exchange is not null)
            {
                await using IChannel channel = await connection.CreateChannelAsync();
                await channel.ExchangeDeleteAsync(exchange);
            }

            await connection.CloseAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log($"clean-up failed, delete {Prefix}* by hand: {e.Message}");
        }
    }

    /// <summary>
    /// Fills <paramref name="queue"/> with <paramref name="count"/> persistent messages from
    /// <see cref="CompareOptions.FillPublishers"/> connections, every one confirmed, then waits until the queue
    /// reports them all. Not part of any measured number; the rate goes to the log, and so does progress every
    /// <see cref="FillProgressInterval"/> (a 10M fill of RabbitMQ takes the better part of an hour).
    /// </summary>
    public async Task FillAsync(string queue, long count, int bodySize, int publishers, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        byte[] body = MessageBody(bodySize);
        var confirmed = new Counter();
        var connections = new ConcurrentBag<IConnection>();
        Task filling = Parallel.ForEachAsync(Enumerable.Range(0, publishers),
            new ParallelOptions { MaxDegreeOfParallelism = publishers, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                long share = count / publishers + (index < count % publishers ? 1 : 0);
                await using IConnection connection = await ConnectAsync($"fill-{index}", ct);
                connections.Add(connection);
                await using IChannel channel = await connection.CreateChannelAsync(ConfirmingChannel, ct);
                await Publisher.RunAsync(channel, new PublishPlan("", queue, body, Persistent: true, FillWindow, share), confirmed, ct);
                await connection.CloseAsync(ct);
            });

        // A broker under a memory or disk alarm blocks publishers until it has paged out; one that never recovers
        // must fail this workload rather than hang the run. Aborting the connections fails the outstanding confirms.
        long seen = 0;
        var sinceProgress = Stopwatch.StartNew();
        var sinceLog = Stopwatch.StartNew();
        try
        {
            while (await Task.WhenAny(filling, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)) != filling)
            {
                if (confirmed.Value != seen)
                {
                    seen = confirmed.Value;
                    sinceProgress.Restart();
                }
                else if (sinceProgress.Elapsed > FillStallLimit)
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"filling {queue}: no confirm for {FillStallLimit.TotalMinutes} min at {seen:N0} of {count:N0}"));
                }

                if (sinceLog.Elapsed > FillProgressInterval)
                {
                    sinceLog.Restart();
                    Log(string.Create(CultureInfo.InvariantCulture,
                        $"filling {queue}: {seen:N0} of {count:N0} confirmed ({seen / clock.Elapsed.TotalSeconds:F0} msg/s so far)"));
                }
            }
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            foreach (IConnection connection in connections)
            {
                await connection.AbortAsync();
            }

            await Task.WhenAny(filling);   // let the publishers see the abort; their errors are not the news here
            throw;
        }

        await filling;

        await using (IConnection connection = await ConnectAsync("fill-check", cancellationToken))
        await using (IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            uint queued = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            for (int wait = 0; queued < count && wait < 300; wait++)
            {
                await Task.Delay(100, cancellationToken);
                queued = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
            }

            if (queued < count)
            {
                throw new InvalidOperationException($"{queue}: {count} messages confirmed but only {queued} queued");
            }

            await connection.CloseAsync(cancellationToken);
        }

        Log(string.Create(CultureInfo.InvariantCulture,
            $"filled {queue} with {count:N0} x {bodySize} B in {clock.Elapsed.TotalSeconds:F1} s ({count / clock.Elapsed.TotalSeconds:F0} msg/s, not a result)"));
    }

    /// <summary>A body of the given size; random bytes, so that nothing on the way can compress it away.</summary>
    public static byte[] MessageBody(int size)
    {
        byte[] body = new byte[size];
        Random.Shared.NextBytes(body);
        return body;
    }
}
