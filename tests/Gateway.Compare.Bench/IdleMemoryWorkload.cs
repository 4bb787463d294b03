using System.Globalization;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workload 7: what an idle connection and an idle queue cost the broker, from its resident set (VmRSS): read once
/// the broker has settled, open <see cref="CompareOptions.IdleConnections"/> connections with one channel each (or
/// declare <see cref="CompareOptions.IdleQueues"/> durable queues), settle, read again; the difference divided by
/// the count. Garbage collection (the gateway) and allocator caching (both) move RSS on their own, hence the
/// medians over rounds; a negative value means the step freed more than it took.
/// </summary>
internal static class IdleMemoryWorkload
{
    private const int OpenConcurrency = 8;

    public static async Task RunAsync(WorkloadContext context, CancellationToken cancellationToken)
    {
        if (context.Target.Pid is not int pid || BrokerProcess.ResidentBytes(pid) is null)
        {
            context.Table.Declare(context.Metrics.ConnectionMemory);
            context.Table.Declare(context.Metrics.QueueMemory);
            context.Target.Log("memory rows skipped: broker process unknown (give --gateway-pid/--rabbitmq-pid for a broker on this machine)");
            return;
        }

        await MeasureConnectionsAsync(context, pid, cancellationToken);
        await MeasureQueuesAsync(context, pid, cancellationToken);
    }

    private static async Task MeasureConnectionsAsync(WorkloadContext context, int pid, CancellationToken cancellationToken)
    {
        int count = context.Options.IdleConnections;
        var connections = new IConnection[count];
        try
        {
            long before = await SettledResidentBytesAsync(context, pid, cancellationToken);
            await Parallel.ForEachAsync(Enumerable.Range(0, count),
                new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    connections[i] = await context.Target.ConnectAsync("idle", ct);
                    await connections[i].CreateChannelAsync(cancellationToken: ct);
                });
            long after = await SettledResidentBytesAsync(context, pid, cancellationToken);
            context.Record(context.Metrics.ConnectionMemory, (after - before) / 1024.0 / count);
        }
        finally
        {
            await Parallel.ForEachAsync(connections.Where(connection => connection is not null),
                new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency },
                async (connection, _) => await PublishWorkload.CloseAllAsync([connection]));
        }
    }

    private static async Task MeasureQueuesAsync(WorkloadContext context, int pid, CancellationToken cancellationToken)
    {
        int count = context.Options.IdleQueues;
        string[] queues = [.. Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{BrokerTarget.Prefix}idle.{i:D6}"))];
        try
        {
            long before = await SettledResidentBytesAsync(context, pid, cancellationToken);
            // A few channels in parallel: declaring thousands of queues one round trip at a time takes long on either broker.
            await using IConnection connection = await context.Target.ConnectAsync("idle-queues", cancellationToken);
            await Parallel.ForEachAsync(queues.Chunk((count + OpenConcurrency - 1) / OpenConcurrency),
                new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency, CancellationToken = cancellationToken },
                async (chunk, ct) =>
                {
                    await using IChannel channel = await connection.CreateChannelAsync(cancellationToken: ct);
                    foreach (string queue in chunk)
                    {
                        await BrokerTarget.DeclareEmptyQueueAsync(channel, queue, ct);
                    }

                    await channel.CloseAsync(ct);
                });
            long after = await SettledResidentBytesAsync(context, pid, cancellationToken);
            context.Record(context.Metrics.QueueMemory, (after - before) / 1024.0 / count);
            await connection.CloseAsync(cancellationToken);
        }
        finally
        {
            await context.Target.DeleteQueuesAsync(queues);
        }
    }

    private static async Task<long> SettledResidentBytesAsync(WorkloadContext context, int pid, CancellationToken cancellationToken)
    {
        await Task.Delay(context.Options.Settle, cancellationToken);
        return BrokerProcess.ResidentBytes(pid) ?? throw new InvalidOperationException($"process {pid} is gone");
    }
}
