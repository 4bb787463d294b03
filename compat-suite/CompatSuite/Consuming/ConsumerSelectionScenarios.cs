using System.Collections.Concurrent;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using CompatSuite.Fixtures;

namespace CompatSuite.Consuming;

/// <summary>Which consumer a queue delivers to, as RabbitMQ 3.10 chooses: consumer priorities (x-priority) and single active consumer.</summary>
public sealed class ConsumerSelectionScenarios
{
    private static async Task<string> ConsumeIntoAsync(IChannel channel, string queue, ConcurrentQueue<string> into, string name, int? priority = null)
    {
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            into.Enqueue($"{name}:{Encoding.UTF8.GetString(delivery.Body.Span)}");
            return Task.CompletedTask;
        };
        var arguments = priority is { } p ? new Dictionary<string, object?> { ["x-priority"] = p } : null;
        return await channel.BasicConsumeAsync(queue, autoAck: true, consumerTag: "", noLocal: false, exclusive: false, arguments, consumer);
    }

    private static async Task PublishAsync(IChannel channel, string queue, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            await channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes($"m{i}"));
        }
    }

    [Fact]
    public async Task The_highest_priority_consumer_gets_everything_while_it_can_take_it()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("prioritised");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        var received = new ConcurrentQueue<string>();
        await ConsumeIntoAsync(channel, queue, received, "low");
        await ConsumeIntoAsync(channel, queue, received, "high", priority: 10);
        await ConsumeIntoAsync(channel, queue, received, "lower", priority: -5);
        await PublishAsync(channel, queue, 0, 10);
        await Scenario.WaitUntilAsync(() => received.Count == 10, "10 deliveries");
        Assert.All(received, r => Assert.StartsWith("high:", r));
        await channel.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_lower_priority_consumer_gets_messages_only_while_the_higher_one_has_no_credit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var setup = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("blocked-high");
        await setup.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await using var highChannel = await connection.CreateChannelAsync();
        await highChannel.BasicQosAsync(0, 2, false);
        var high = new ConcurrentQueue<string>();
        var low = new ConcurrentQueue<string>();
        var highConsumer = new AsyncEventingBasicConsumer(highChannel);
        highConsumer.ReceivedAsync += (_, d) => { high.Enqueue(Encoding.UTF8.GetString(d.Body.Span)); return Task.CompletedTask; };   // never acks
        await highChannel.BasicConsumeAsync(queue, false, "", false, false, new Dictionary<string, object?> { ["x-priority"] = 5 }, highConsumer);
        await ConsumeIntoAsync(setup, queue, low, "low");
        await PublishAsync(setup, queue, 0, 6);
        await Scenario.WaitUntilAsync(() => high.Count + low.Count == 6, "6 deliveries");
        Assert.Equal(["m0", "m1"], high);   // its prefetch of 2, then it is blocked
        Assert.Equal(4, low.Count);
        await setup.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_single_active_consumer_queue_delivers_to_the_first_consumer_until_it_goes_then_to_the_next()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("single");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-single-active-consumer"] = true });
        var received = new ConcurrentQueue<string>();
        string first = await ConsumeIntoAsync(channel, queue, received, "first");
        await ConsumeIntoAsync(channel, queue, received, "second", priority: 10);   // priority does not make it active (3.10)
        await PublishAsync(channel, queue, 0, 5);
        await Scenario.WaitUntilAsync(() => received.Count == 5, "5 deliveries");
        Assert.All(received, r => Assert.StartsWith("first:", r));

        await channel.BasicCancelAsync(first);
        await PublishAsync(channel, queue, 5, 3);
        await Scenario.WaitUntilAsync(() => received.Count == 8, "8 deliveries");
        Assert.Equal(["second:m5", "second:m6", "second:m7"], received.Skip(5));
        await channel.QueueDeleteAsync(queue);
    }
}
