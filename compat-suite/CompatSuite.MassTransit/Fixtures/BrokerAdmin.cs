using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.MassTransit.Fixtures;

/// <summary>Plain AMQP operations around a MassTransit scenario: read a queue back, delete what was declared.</summary>
public static class BrokerAdmin
{
    /// <summary>
    /// basic.get with auto-ack until a message arrives or the timeout passes (then null). The queue may not exist
    /// yet (MassTransit declares an _error queue when the first fault is moved there): a 404 closes the channel,
    /// so the next attempt opens a new one.
    /// </summary>
    public static async Task<BasicGetResult?> GetAsync(string queue, TimeSpan timeout)
    {
        await using IConnection connection = await Broker.ConnectAsync();
        DateTime deadline = DateTime.UtcNow + timeout;
        IChannel channel = await connection.CreateChannelAsync();
        try
        {
            while (true)
            {
                try
                {
                    if (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
                    {
                        return message;
                    }
                }
                catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
                {
                    await channel.DisposeAsync();
                    channel = await connection.CreateChannelAsync();
                }

                if (DateTime.UtcNow >= deadline)
                {
                    return null;
                }

                await Task.Delay(100);
            }
        }
        finally
        {
            await channel.DisposeAsync();
        }
    }

    /// <summary>
    /// The skip reason of scenarios that need the community plugin rabbitmq_delayed_message_exchange: .ci/run's
    /// report accepts a skip on RabbitMQ that starts with it (Debian's RabbitMQ does not ship the plugin), as long
    /// as the scenario passes on the gateway.
    /// </summary>
    public const string NeedsDelayedMessagePlugin = "needs-plugin rabbitmq_delayed_message_exchange";

    /// <summary>Whether the broker knows the x-delayed-message exchange type: declares a throwaway one (503 when it does not).</summary>
    public static async Task<bool> HasDelayedMessageExchangeAsync()
    {
        await using IConnection connection = await Broker.ConnectAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        string probe = $"compat-mt-delayed-probe-{Guid.NewGuid():N}";
        try
        {
            await channel.ExchangeDeclareAsync(
                probe, "x-delayed-message", durable: false, autoDelete: true, new Dictionary<string, object?> { ["x-delayed-type"] = "direct" });
            await channel.ExchangeDeleteAsync(probe);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 503)
        {
            return false;
        }
    }

    /// <summary>Message count of a queue (queue.declare passive), or null when it does not exist.</summary>
    public static async Task<uint?> MessageCountAsync(string queue)
    {
        await using IConnection connection = await Broker.ConnectAsync();
        await using IChannel channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the queues and exchanges a scenario's endpoints declared, so durable ones do not pile up on a
    /// broker that is reused between runs. Each delete gets its own channel: a 404 closes only that channel.
    /// </summary>
    public static async Task DeleteAsync(IEnumerable<string> queues, IEnumerable<string> exchanges)
    {
        await using IConnection connection = await Broker.ConnectAsync();
        foreach (string queue in queues)
        {
            await IgnoringNotFoundAsync(connection, channel => channel.QueueDeleteAsync(queue));
        }

        foreach (string exchange in exchanges)
        {
            await IgnoringNotFoundAsync(connection, channel => channel.ExchangeDeleteAsync(exchange));
        }
    }

    private static async Task IgnoringNotFoundAsync(IConnection connection, Func<IChannel, Task> operation)
    {
        await using IChannel channel = await connection.CreateChannelAsync();
        try
        {
            await operation(channel);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            // Already gone (auto-delete, or the scenario failed before declaring it).
        }
    }
}
