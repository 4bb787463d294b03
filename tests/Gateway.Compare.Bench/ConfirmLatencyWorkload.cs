using System.Diagnostics;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workload 8: publish → confirm latency with nothing else in flight. One publisher sends one persistent message,
/// awaits its ack, then sends the next, <see cref="CompareOptions.LatencySamples"/> times (after a tenth as many
/// unrecorded ones to warm up); p50 and p99 by nearest rank. On both brokers this is a disk flush per message.
/// </summary>
internal static class ConfirmLatencyWorkload
{
    public static async Task RunAsync(WorkloadContext context, CancellationToken cancellationToken)
    {
        CompareOptions options = context.Options;
        string queue = $"{BrokerTarget.Prefix}latency";
        try
        {
            await using IConnection connection = await context.Target.ConnectAsync("latency", cancellationToken);
            await using IChannel channel = await connection.CreateChannelAsync(BrokerTarget.ConfirmingChannel, cancellationToken);
            await BrokerTarget.DeclareEmptyQueueAsync(channel, queue, cancellationToken);
            byte[] body = BrokerTarget.MessageBody(options.BodySize);
            int warmup = Math.Max(options.LatencySamples / 10, 1);
            double[] samples = new double[options.LatencySamples];
            for (int i = -warmup; i < samples.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await channel.BasicPublishAsync("", queue, mandatory: false,
                    new BasicProperties { DeliveryMode = DeliveryModes.Persistent }, body, cancellationToken);
                if (i >= 0)
                {
                    samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }

            Array.Sort(samples);
            context.Record(context.Metrics.ConfirmP50, NearestRank(samples, 0.50));
            context.Record(context.Metrics.ConfirmP99, NearestRank(samples, 0.99));
            await connection.CloseAsync(cancellationToken);
        }
        finally
        {
            await context.Target.DeleteQueuesAsync([queue]);
        }
    }

    private static double NearestRank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
