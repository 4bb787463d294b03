using System.Diagnostics;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workloads 1 and 5: persistent publishing with confirms, nobody consuming. Each publisher has its own connection,
/// channel and durable queue (so that N publishers measure how the broker scales, not one queue's limit); queues
/// grow during the window and are deleted after the round.
/// </summary>
internal static class PublishWorkload
{
    public static async Task RunAsync(WorkloadContext context, int publishers, Metric metric, CancellationToken cancellationToken)
    {
        string[] queues = [.. Enumerable.Range(0, publishers).Select(i => $"{BrokerTarget.Prefix}publish.{publishers}.{i}")];
        try
        {
            double rate = await MeasureAsync(context, queues, declare: true, cancellationToken);
            context.Record(metric, rate);
        }
        finally
        {
            await context.Target.DeleteQueuesAsync(queues);
        }
    }

    /// <summary>
    /// Workload 5: fills one queue with <see cref="CompareOptions.DeepBacklog"/> small messages as fast as the broker
    /// takes them (not timed), then measures the one-publisher confirm rate into that same queue once per round.
    /// The back-log is filled once per broker and stays for all rounds.
    /// </summary>
    public static async Task RunDeepAsync(BrokerTarget target, CompareOptions options, Metrics metrics, ResultTable table,
        CancellationToken cancellationToken)
    {
        string queue = $"{BrokerTarget.Prefix}deep";
        try
        {
            await using (IConnection connection = await target.ConnectAsync("deep-declare", cancellationToken))
            await using (IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
            {
                await BrokerTarget.DeclareEmptyQueueAsync(channel, queue, cancellationToken);
                await connection.CloseAsync(cancellationToken);
            }

            await target.FillAsync(queue, options.DeepBacklog, options.DeepBodySize, options.FillPublishers, cancellationToken);
            for (int round = 1; round <= options.Rounds; round++)
            {
                var context = new WorkloadContext(target, options, metrics, table, round);
                context.Record(metrics.DeepPublish, await MeasureAsync(context, [queue], declare: false, cancellationToken));
            }
        }
        finally
        {
            var clock = Stopwatch.StartNew();
            await target.DeleteQueuesAsync([queue]);
            target.Log($"deleted the deep back-log in {clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    private static async Task<double> MeasureAsync(WorkloadContext context, string[] queues, bool declare, CancellationToken cancellationToken)
    {
        CompareOptions options = context.Options;
        byte[] body = BrokerTarget.MessageBody(options.BodySize);
        var connections = new List<IConnection>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var channels = new List<IChannel>();
            foreach (string queue in queues)
            {
                IConnection connection = await context.Target.ConnectAsync("publisher", cancellationToken);
                connections.Add(connection);
                IChannel channel = await connection.CreateChannelAsync(BrokerTarget.ConfirmingChannel, cancellationToken);
                if (declare)
                {
                    await BrokerTarget.DeclareEmptyQueueAsync(channel, queue, cancellationToken);
                }

                channels.Add(channel);
            }

            var confirmed = new Counter();
            Task load = Task.WhenAll(channels.Select((channel, i) => Task.Run(() =>
                Publisher.RunAsync(channel, new PublishPlan("", queues[i], body, Persistent: true, options.ConfirmWindow), confirmed, stop.Token),
                CancellationToken.None)));
            double rate = await RateWindow.MeasureAsync(confirmed, load, options, cancellationToken);
            await stop.CancelAsync();
            await load;
            return rate;
        }
        finally
        {
            await stop.CancelAsync();
            await CloseAllAsync(connections);
        }
    }

    public static async Task CloseAllAsync(IEnumerable<IConnection> connections)
    {
        foreach (IConnection connection in connections)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // already closed by the broker; the workload's own error says why
            }

            connection.Dispose();
        }
    }
}
