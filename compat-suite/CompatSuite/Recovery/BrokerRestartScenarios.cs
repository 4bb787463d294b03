using System.Collections.Concurrent;
using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Recovery;

/// <summary>
/// Scenarios that crash the broker. They run alone, after every other class of the suite: a restart breaks every
/// connection to the broker, so a scenario running beside one would fail for no fault of its own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerRestartCollection
{
    public const string Name = "broker restart";
}

/// <summary>
/// RabbitMQ.Client 7.x automatic recovery across a broker crash (SIGKILL and start again, <see cref="BrokerRestart"/>):
/// what an unchanged application relies on when the broker node it talks to dies.
/// </summary>
[Collection(BrokerRestartCollection.Name)]
public sealed class BrokerRestartScenarios
{
    /// <summary>Confirmed messages to see flowing before the crash, and again after recovery.</summary>
    private const int ConfirmedBeforeRestart = 200;
    private const int ConfirmedAfterRecovery = 200;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// A publisher with confirms and a manual-ack consumer, each on its own connection, through a durable exchange,
    /// durable queue and binding; the broker is killed mid-stream and restarted. Both connections must recover
    /// (topology redeclared, the consumer re-registered under its tag), every message whose confirm arrived must
    /// reach the consumer (a crash may redeliver, so duplicates are fine, losses are not), and messages published
    /// after recovery must arrive too. RabbitMQ keeps persistent confirmed messages of a durable queue across the
    /// crash: a confirm is only sent once the message is on disk.
    /// </summary>
    [SkippableFact]
    public async Task Automatic_recovery_after_a_broker_crash_loses_no_confirmed_message()
    {
        BrokerRestart.SkipUnlessConfigured();
        string exchange = $"compat-recovery-x-{Guid.NewGuid():N}", queue = $"compat-recovery-q-{Guid.NewGuid():N}";
        string transientQueue = $"compat-recovery-transient-{Guid.NewGuid():N}";
        const string routingKey = "recovery";

        ConnectionFactory factory = RecoveringFactory();
        await using IConnection consumerConnection = await factory.CreateConnectionAsync("compat-recovery-consumer");
        await using IConnection publisherConnection = await factory.CreateConnectionAsync("compat-recovery-publisher");
        Task consumerRecovered = RecoveredAsync(consumerConnection);
        Task publisherRecovered = RecoveredAsync(publisherConnection);

        // Declared through the connections that must recover them: the client records them for topology recovery.
        await using IChannel consuming = await consumerConnection.CreateChannelAsync();
        await consuming.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false);
        await consuming.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await consuming.QueueBindAsync(queue, exchange, routingKey);
        // A non-durable queue does not survive the crash on either broker: only the client's topology recovery
        // brings it (and its binding) back.
        await consuming.QueueDeclareAsync(transientQueue, durable: false, exclusive: false, autoDelete: false);
        await consuming.QueueBindAsync(transientQueue, exchange, routingKey);
        await consuming.BasicQosAsync(0, 50, global: false);
        var received = new ConcurrentDictionary<long, int>();
        var consumerTagsSeen = new ConcurrentDictionary<string, bool>();
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            consumerTagsSeen[delivery.ConsumerTag] = true;
            received.AddOrUpdate(long.Parse(Encoding.UTF8.GetString(delivery.Body.Span), System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            try
            {
                await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            }
            catch (AlreadyClosedException)
            {
                // The connection died under this delivery; the broker redelivers it after recovery.
            }
        };
        string consumerTag = await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);

        await using IChannel publishing = await publisherConnection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        // Publishers declare what they publish to as well (MassTransit does): recovered on this connection too.
        await publishing.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false);
        var publisher = new ConfirmingPublisher(publishing, exchange, routingKey);
        using var stopPublishing = new CancellationTokenSource();
        Task publishingLoop = publisher.RunAsync(stopPublishing.Token);

        await WaitUntilAsync(() => publisher.Confirmed.Count >= ConfirmedBeforeRestart && !received.IsEmpty, publishingLoop,
            $"{ConfirmedBeforeRestart} confirms and a delivery before the restart");
        await BrokerRestart.RestartAsync();
        await Task.WhenAll(consumerRecovered, publisherRecovered).WaitAsync(StepTimeout);
        Assert.True(consumerConnection.IsOpen && publisherConnection.IsOpen);

        // Only messages whose publish started after both connections recovered count as "after recovery".
        long firstAfterRecovery = publisher.NextSequence;
        await WaitUntilAsync(() => publisher.Confirmed.Keys.Count(n => n >= firstAfterRecovery) >= ConfirmedAfterRecovery, publishingLoop,
            $"{ConfirmedAfterRecovery} confirms after recovery (mandatory publishes: a lost binding would return them)");
        await stopPublishing.CancelAsync();
        await publishingLoop;

        long[] confirmed = [.. publisher.Confirmed.Keys.Order()];
        DateTime deliveryDeadline = DateTime.UtcNow + StepTimeout;
        while (!confirmed.All(received.ContainsKey) && DateTime.UtcNow < deliveryDeadline)
        {
            await Task.Delay(50);
        }

        long[] lost = [.. confirmed.Where(n => !received.ContainsKey(n))];
        Assert.True(lost.Length == 0, $"{lost.Length} of {confirmed.Length} confirmed messages never arrived, e.g. {string.Join(", ", lost.Take(10))}");
        Assert.Contains(confirmed, n => n >= firstAfterRecovery && received.ContainsKey(n));

        // The consumer came back under the same tag, once: the queue has exactly one consumer.
        Assert.Equal([consumerTag], consumerTagsSeen.Keys);
        await using IChannel check = await publisherConnection.CreateChannelAsync();
        Assert.Equal(1u, (await check.QueueDeclarePassiveAsync(queue)).ConsumerCount);
        uint inTransientQueue = (await check.QueueDeclarePassiveAsync(transientQueue)).MessageCount;
        Assert.True(inTransientQueue >= ConfirmedAfterRecovery, $"the redeclared transient queue holds {inTransientQueue} messages");
        await check.QueueDeleteAsync(transientQueue);
        await consuming.BasicCancelAsync(consumerTag);
        await check.QueueDeleteAsync(queue);
        await check.ExchangeDeleteAsync(exchange);
    }

    private static ConnectionFactory RecoveringFactory()
    {
        ConnectionFactory factory = Broker.Factory();
        factory.AutomaticRecoveryEnabled = true;
        factory.TopologyRecoveryEnabled = true;
        factory.NetworkRecoveryInterval = TimeSpan.FromSeconds(1);
        return factory;
    }

    private static Task RecoveredAsync(IConnection connection)
    {
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.RecoverySucceededAsync += (_, _) =>
        {
            recovered.TrySetResult();
            return Task.CompletedTask;
        };
        return recovered.Task;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails early if <paramref name="mustKeepRunning"/> ended.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, Task mustKeepRunning, string what)
    {
        DateTime deadline = DateTime.UtcNow + StepTimeout;
        while (!condition())
        {
            if (mustKeepRunning.IsCompleted)
            {
                await mustKeepRunning;   // surfaces its exception
                Assert.Fail($"stopped before: {what}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Publishes persistent, mandatory messages numbered 1, 2, 3… in batches of ten awaited together, and remembers
    /// the numbers whose confirm (basic.ack) arrived. A publish that fails (connection lost, channel recovering,
    /// nack, return) is simply not confirmed; the loop waits a moment and goes on with new numbers.
    /// </summary>
    private sealed class ConfirmingPublisher(IChannel channel, string exchange, string routingKey)
    {
        private const int BatchSize = 10;
        private long _lastSequence;

        public ConcurrentDictionary<long, bool> Confirmed { get; } = new();

        public long NextSequence => Interlocked.Read(ref _lastSequence) + 1;

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                bool[] outcomes = await Task.WhenAll(Enumerable.Range(0, BatchSize).Select(_ => PublishOneAsync(Interlocked.Increment(ref _lastSequence))));
                if (!outcomes.All(ok => ok))
                {
                    await Task.Delay(100, CancellationToken.None);
                }
            }
        }

        private async Task<bool> PublishOneAsync(long sequence)
        {
            var properties = new BasicProperties { Persistent = true, MessageId = $"m-{sequence}" };
            try
            {
                await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties,
                    Encoding.UTF8.GetBytes(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                Confirmed[sequence] = true;
                return true;
            }
#pragma warning disable CA1031 // any failure only means "not confirmed"; what arrives is checked at the end
            catch (Exception)
#pragma warning restore CA1031
            {
                return false;
            }
        }
    }
}
