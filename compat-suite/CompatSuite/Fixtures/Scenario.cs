using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Fixtures;

/// <summary>Small helpers shared by the RabbitMQ.Client 7.x scenarios.</summary>
public static class Scenario
{
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A name no other scenario (or earlier run against the same broker) uses.</summary>
    public static string Unique(string prefix) => $"compat-{prefix}-{Guid.NewGuid():N}";

    /// <summary>Runs an RPC that the broker must refuse by closing the channel; returns the close reason.</summary>
    public static async Task<ShutdownEventArgs> ExpectChannelClosedAsync(IChannel channel, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<OperationInterruptedException>(action);
        Assert.False(channel.IsOpen);
        return error.ShutdownReason!;
    }

    /// <summary>Completes with the channel's close reason (for refusals that are not an RPC, like basic.publish).</summary>
    public static Task<ShutdownEventArgs> ClosedAsync(IChannel channel)
    {
        var closed = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, args) =>
        {
            closed.TrySetResult(args);
            return Task.CompletedTask;
        };
        return closed.Task.WaitAsync(WaitTimeout);
    }

    /// <summary>Polls until the condition holds; fails after <see cref="WaitTimeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + WaitTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Ready messages in the queue, as queue.declare-ok (passive) reports them.</summary>
    public static async Task<uint> MessageCountAsync(IChannel channel, string queue) =>
        (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    /// <summary>
    /// Waits until the queue reports <paramref name="expected"/> ready messages. For effects RabbitMQ applies
    /// asynchronously (a requeue after nack, or after a channel or connection closed), a passive declare straight
    /// after may still count the old state.
    /// </summary>
    public static async Task WaitForMessageCountAsync(IChannel channel, string queue, uint expected)
    {
        DateTime deadline = DateTime.UtcNow + WaitTimeout;
        uint count;
        while ((count = await MessageCountAsync(channel, queue)) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"queue {queue} has {count} ready messages, expected {expected}");
            await Task.Delay(20);
        }
    }

    /// <summary>A consumer that records every delivery and never acks on its own.</summary>
    public static (AsyncEventingBasicConsumer Consumer, RecordedDeliveries Deliveries) RecordingConsumer(IChannel channel)
    {
        var deliveries = new RecordedDeliveries();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, args) =>
        {
            deliveries.Add(new Delivery(args.ConsumerTag, args.DeliveryTag, args.Redelivered, args.RoutingKey, args.Body.ToArray()));
            return Task.CompletedTask;
        };
        return (consumer, deliveries);
    }
}

/// <summary>One basic.deliver as a consumer saw it (the body copied: the client reuses its buffer after the callback).</summary>
public sealed record Delivery(string ConsumerTag, ulong DeliveryTag, bool Redelivered, string RoutingKey, byte[] Body);

/// <summary>Deliveries in arrival order, safe to read while the client's dispatcher adds to it.</summary>
public sealed class RecordedDeliveries
{
    private readonly List<Delivery> _deliveries = [];

    public int Count
    {
        get
        {
            lock (_deliveries)
            {
                return _deliveries.Count;
            }
        }
    }

    public void Add(Delivery delivery)
    {
        lock (_deliveries)
        {
            _deliveries.Add(delivery);
        }
    }

    public Delivery[] Snapshot()
    {
        lock (_deliveries)
        {
            return [.. _deliveries];
        }
    }
}
