using System.Collections.Concurrent;
using System.Threading.Channels;
using Gateway.Broker.Delivery;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>
/// Many queues, concurrent publishers, ackers on their own threads and several workers: every message ends
/// settled exactly once, no delivery exceeds a prefetch limit, and nothing is left stuck (a lost wake-up
/// would leave messages ready with consumers that have credit, and the test would time out).
/// </summary>
public sealed class ConcurrencyStressTests
{
    private const int Queues = 200;
    private const int MessagesPerQueue = 100;
    private const int Total = Queues * MessagesPerQueue;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Publishers_workers_and_ackers_racing_settle_every_message_exactly_once()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 4, BurstSize = 16 });
        var queues = Enumerable.Range(0, Queues).Select(i => dispatcher.CreateQueue($"q{i}")).ToArray();
        var settled = new SettledCount(Total);
        var violations = new List<string>();

        // Eight channels: different per-consumer prefetches, one with a global limit too, one no-ack.
        var sessions = Enumerable.Range(0, 8).Select(i => new AckingSession(dispatcher, settled, violations, seed: i)).ToArray();
        sessions[1].Channel.SetQos(5, global: true);
        for (int i = 0; i < Queues; i++)
        {
            foreach (var session in new[] { sessions[i % 8], sessions[(i + 3) % 8] })
            {
                session.Channel.SetQos((ushort)(1 + (i % 10)), global: false);
                session.Consume(queues[i].Queue, $"q{i}", noAck: session == sessions[7]);
            }
        }

        var ackers = sessions.Select(session => session.RunAsync()).ToArray();
        var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            // Publisher p publishes one message at a time to its share of the queues, round after round.
            for (int round = 0; round < MessagesPerQueue; round++)
            {
                for (int i = p; i < Queues; i += 4)
                {
                    queues[i].Publish();
                }
            }
        })).ToArray();

        await Task.WhenAll(publishers).WaitAsync(Timeout);

        // An acker that failed an assertion ends early: surface its failure rather than a timeout.
        await await Task.WhenAny([settled.AllSettled, .. ackers]).WaitAsync(Timeout);
        await settled.AllSettled.WaitAsync(Timeout);
        foreach (var session in sessions)
        {
            session.Stop();
        }

        await Task.WhenAll(ackers).WaitAsync(Timeout);

        Assert.Empty(violations);
        foreach (var (_, source) in queues)
        {
            Assert.Equal(Enumerable.Range(0, MessagesPerQueue).Select(i => (long)i), source.Settled.Order());
            Assert.Equal((0, 0L, 0), (source.InFlight, source.Ready, source.InvalidSettles));
        }

        int requeues = queues.Sum(q => q.Source.RequeueOrder.Count);
        Assert.Equal(Total + requeues, sessions.Sum(s => s.Delivered));
        Assert.True(requeues > 0, "the nack path was not exercised");
    }

    [Fact]
    public async Task Channels_closing_with_unacked_deliveries_while_publishers_run_lose_and_duplicate_nothing()
    {
        const int ClosingQueues = 50;
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 4, BurstSize = 8 });
        var queues = Enumerable.Range(0, ClosingQueues).Select(i => dispatcher.CreateQueue($"q{i}")).ToArray();
        int total = ClosingQueues * MessagesPerQueue;
        var settled = new SettledCount(total);

        // Four consumers that each consume every queue with prefetch 5, ack a few deliveries, then close the
        // channel with the rest unacked (requeued) and start over on a new channel, until all is settled.
        var consumers = Enumerable.Range(0, 4).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            while (!settled.AllSettled.IsCompleted)
            {
                var deliveries = Channel.CreateUnbounded<ConsumerDelivery>();
                var channel = dispatcher.OpenChannel(new QueueingTarget(deliveries.Writer));
                channel.SetQos(5, global: false);
                foreach (var (queue, _) in queues)
                {
                    channel.Consume(queue, queue.Name, noAck: false);
                }

                int acksBeforeClose = random.Next(1, 40);
                try
                {
                    for (int acks = 0; acks < acksBeforeClose; acks++)
                    {
                        var delivery = await deliveries.Reader.ReadAsync(settled.Cancellation);
                        settled.Add(channel.Ack(delivery.DeliveryTag, multiple: false).Count);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Everything is settled: close this last session.
                }

                channel.Close();
            }
        })).ToArray();

        var publishers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            for (int round = 0; round < MessagesPerQueue; round++)
            {
                for (int i = p; i < ClosingQueues; i += 2)
                {
                    queues[i].Publish();
                }
            }
        })).ToArray();

        await Task.WhenAll(publishers).WaitAsync(Timeout);
        await settled.AllSettled.WaitAsync(Timeout);
        await Task.WhenAll(consumers).WaitAsync(Timeout);

        foreach (var (queue, source) in queues)
        {
            Assert.Equal(Enumerable.Range(0, MessagesPerQueue).Select(i => (long)i), source.Settled.Order());
            Assert.Equal((0, 0L, 0, 0), (source.InFlight, source.Ready, source.InvalidSettles, queue.ConsumerCount));
        }
    }

    /// <summary>Counts settled messages and completes when all are.</summary>
    private sealed class SettledCount(int total)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _cancellation = new();
        private int _settled;

        public Task AllSettled => _all.Task;

        public CancellationToken Cancellation => _cancellation.Token;

        public void Add(int count)
        {
            if (Interlocked.Add(ref _settled, count) == total)
            {
                _all.SetResult();
                _cancellation.Cancel();
            }
        }
    }

    /// <summary>The server side of a channel in miniature: deliveries queue up, and an acker task settles them.</summary>
    private sealed class AckingSession
    {
        private readonly Channel<ConsumerDelivery> _deliveries = System.Threading.Channels.Channel.CreateUnbounded<ConsumerDelivery>();
        private readonly SettledCount _settled;
        private readonly Random _random;
        private int _delivered;

        public AckingSession(DeliveryDispatcher dispatcher, SettledCount settled, List<string> violations, int seed)
        {
            _settled = settled;
            _random = new Random(seed);
            Channel = dispatcher.OpenChannel(new QueueingTarget(_deliveries.Writer, delivery =>
            {
                Interlocked.Increment(ref _delivered);
                var consumer = Consumers[delivery.ConsumerTag];
                var channel = consumer.Channel;
                if (consumer.Prefetch != 0 && consumer.UnackedCount > consumer.Prefetch
                    || channel.ChannelPrefetch != 0 && channel.Credit.InUse > channel.ChannelPrefetch)
                {
                    lock (violations)
                    {
                        violations.Add($"{delivery.ConsumerTag}: {consumer.UnackedCount} unacked, prefetch {consumer.Prefetch}");
                    }
                }
            }));
        }

        public DeliveryChannel Channel { get; }

        public int Delivered => Volatile.Read(ref _delivered);

        private ConcurrentDictionary<string, Consumer> Consumers { get; } = [];

        public void Stop() => _deliveries.Writer.Complete();

        public void Consume(DispatchQueue queue, string tag, bool noAck) => Consumers[tag] = Channel.Consume(queue, tag, noAck);

        /// <summary>
        /// Reads deliveries in order. No-ack ones count as settled. Others: about one in ten is nacked with
        /// requeue at once, the rest acked with multiple once three are pending or nothing more is waiting.
        /// </summary>
        public async Task RunAsync()
        {
            ulong pendingUpTo = 0;
            int pending = 0;
            await foreach (var delivery in _deliveries.Reader.ReadAllAsync())
            {
                if (Consumers[delivery.ConsumerTag].NoAck)
                {
                    _settled.Add(1);
                }
                else if (_random.Next(10) == 0)
                {
                    Assert.Equal(1, Channel.Nack(delivery.DeliveryTag, multiple: false, requeue: true).Count);
                }
                else
                {
                    pendingUpTo = delivery.DeliveryTag;
                    pending++;
                }

                if (pending > 0 && (pending == 3 || !_deliveries.Reader.TryPeek(out _)))
                {
                    var result = Channel.Ack(pendingUpTo, multiple: true);
                    Assert.Equal(pending, result.Count);
                    _settled.Add(result.Count);
                    pending = 0;
                }
            }
        }
    }

    /// <summary>Writes each delivery to a queue read by another task, as the server's channel output would.</summary>
    private sealed class QueueingTarget(ChannelWriter<ConsumerDelivery> deliveries, Action<ConsumerDelivery>? inspect = null)
        : IDeliveryTarget
    {
        public void Deliver(in ConsumerDelivery delivery)
        {
            inspect?.Invoke(delivery);
            deliveries.TryWrite(delivery);
        }

        public void DeliverGetOk(in GetDelivery delivery) => throw new NotSupportedException();

        public void ConsumerCancelled(string consumerTag) => throw new NotSupportedException();
    }
}
