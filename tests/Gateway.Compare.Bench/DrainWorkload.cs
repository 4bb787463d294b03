using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workload 4: a durable queue is filled with <see cref="CompareOptions.Backlog"/> persistent messages (not timed),
/// then one consumer (prefetch <see cref="CompareOptions.Prefetch"/>, ack per message) drains it. Timed from
/// basic.consume to the arrival of the last message.
/// </summary>
internal static class DrainWorkload
{
    /// <summary>A drain that receives nothing for this long has stalled; the round fails instead of hanging the run.</summary>
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(WorkloadContext context, CancellationToken cancellationToken)
    {
        CompareOptions options = context.Options;
        string queue = $"{BrokerTarget.Prefix}drain";
        try
        {
            await using (IConnection connection = await context.Target.ConnectAsync("drain-declare", cancellationToken))
            await using (IChannel channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
            {
                await BrokerTarget.DeclareEmptyQueueAsync(channel, queue, cancellationToken);
                await connection.CloseAsync(cancellationToken);
            }

            await context.Target.FillAsync(queue, options.Backlog, options.BodySize, options.FillPublishers, cancellationToken);

            await using IConnection consumerConnection = await context.Target.ConnectAsync("drain-consumer", cancellationToken);
            await using IChannel consumerChannel = await consumerConnection.CreateChannelAsync(cancellationToken: cancellationToken);
            await consumerChannel.BasicQosAsync(0, options.Prefetch, global: false, cancellationToken);
            var received = new Counter();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = new Stopwatch();
            TimeSpan lastArrival = TimeSpan.Zero;
            var consumer = new AsyncEventingBasicConsumer(consumerChannel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                received.Add();
                if (received.Value == options.Backlog)
                {
                    lastArrival = clock.Elapsed;
                    done.TrySetResult();
                }

                await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            };

            clock.Start();
            await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
            long seen = 0;
            var sinceProgress = Stopwatch.StartNew();
            while (!done.Task.IsCompleted)
            {
                await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                if (received.Value != seen)
                {
                    seen = received.Value;
                    sinceProgress.Restart();
                }
                else if (sinceProgress.Elapsed > StallLimit)
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"drain stalled at {seen:N0} of {options.Backlog:N0} messages"));
                }
            }

            context.Record(context.Metrics.DrainTime, lastArrival.TotalSeconds);
            context.Record(context.Metrics.DrainRate, options.Backlog / lastArrival.TotalSeconds);
            await consumerConnection.CloseAsync(cancellationToken);
        }
        finally
        {
            await context.Target.DeleteQueuesAsync([queue]);
        }
    }
}
