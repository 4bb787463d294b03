using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workloads 2 and 3: a publisher and consumers running together, in steady state.
/// <list type="bullet">
/// <item>End to end: one publisher and one consumer on one durable queue, transient messages, no publisher
/// confirms; the consumer acks every message (prefetch <see cref="CompareOptions.Prefetch"/>).</item>
/// <item>Fan-out: one publisher into a durable fanout exchange bound to <see cref="CompareOptions.FanoutQueues"/>
/// durable queues, persistent messages with confirms (window <see cref="CompareOptions.ConfirmWindow"/>), one
/// consumer per queue on its own connection, acking every message.</item>
/// </list>
/// In both the publisher may be at most <see cref="CompareOptions.ConfirmWindow"/> messages ahead of the slowest
/// consumer (<see cref="DeliveryCredit"/>), so the queues stay short and the rate is what flows end to end.
/// </summary>
internal static class FlowWorkload
{
    public static Task RunEndToEndAsync(WorkloadContext context, CancellationToken cancellationToken) =>
        RunAsync(context, exchange: null, [$"{BrokerTarget.Prefix}e2e"], persistent: false, context.Metrics.EndToEnd, null,
            cancellationToken);

    public static Task RunFanoutAsync(WorkloadContext context, CancellationToken cancellationToken) =>
        RunAsync(context, $"{BrokerTarget.Prefix}fanout",
            [.. Enumerable.Range(0, context.Options.FanoutQueues).Select(i => $"{BrokerTarget.Prefix}fanout.{i}")],
            persistent: true, context.Metrics.FanoutPublished, context.Metrics.FanoutDelivered, cancellationToken);

    private static async Task RunAsync(WorkloadContext context, string? exchange, string[] queues, bool persistent,
        Metric publishedMetric, Metric? deliveredMetric, CancellationToken cancellationToken)
    {
        CompareOptions options = context.Options;
        var connections = new List<IConnection>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            IConnection publisherConnection = await context.Target.ConnectAsync("flow-publisher", cancellationToken);
            connections.Add(publisherConnection);
            IChannel publisher = await publisherConnection.CreateChannelAsync(
                persistent ? BrokerTarget.ConfirmingChannel : null, cancellationToken);
            if (exchange is not null)
            {
                await publisher.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false,
                    cancellationToken: cancellationToken);
            }

            foreach (string queue in queues)
            {
                await BrokerTarget.DeclareEmptyQueueAsync(publisher, queue, cancellationToken);
                if (exchange is not null)
                {
                    await publisher.QueueBindAsync(queue, exchange, "", cancellationToken: cancellationToken);
                }
            }

            var credit = new DeliveryCredit(options.ConfirmWindow, queues.Length);
            var delivered = new Counter();
            foreach (string queue in queues)
            {
                IConnection connection = await context.Target.ConnectAsync("flow-consumer", cancellationToken);
                connections.Add(connection);
                IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                await channel.BasicQosAsync(0, options.Prefetch, global: false, cancellationToken);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += async (_, delivery) =>
                {
                    delivered.Add();
                    credit.Return();
                    await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                };
                await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
            }

            byte[] body = BrokerTarget.MessageBody(options.BodySize);
            var published = new Counter();
            var plan = new PublishPlan(exchange ?? "", exchange is null ? queues[0] : "", body, persistent,
                persistent ? options.ConfirmWindow : 0, Credit: credit);
            Task load = Task.Run(() => Publisher.RunAsync(publisher, plan, published, stop.Token), CancellationToken.None);

            // Both rates over the same window: the published count and the delivered count are sampled together.
            Task<double> deliveredRate = RateWindow.MeasureAsync(delivered, load, options, cancellationToken);
            double publishedRate = await RateWindow.MeasureAsync(published, load, options, cancellationToken);
            double deliveredPerSecond = await deliveredRate;
            await stop.CancelAsync();
            await load;
            context.Record(publishedMetric, deliveredMetric is null ? deliveredPerSecond : publishedRate);
            if (deliveredMetric is not null)
            {
                context.Record(deliveredMetric, deliveredPerSecond);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await PublishWorkload.CloseAllAsync(connections);
            await context.Target.DeleteQueuesAsync(queues, exchange);
        }
    }
}
