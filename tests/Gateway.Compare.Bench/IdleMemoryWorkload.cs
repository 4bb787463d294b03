using System.Globalization;
using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workload 7: what an idle queue and an idle connection cost the broker, from its resident set (VmRSS). Each round
/// reads RSS once the broker has settled, declares <see cref="CompareOptions.IdleQueues"/> more durable queues (or
/// opens <see cref="CompareOptions.IdleConnections"/> more connections with one channel each), settles, reads again,
/// and divides the difference by the count.
/// <para>
/// Nothing is released until every round of both steps has been read: memory that a broker freed (a .NET heap
/// after a collection, Erlang's allocator carriers) is reused before RSS grows, so a round after a release would
/// measure close to nothing. For the same reason this runs first, before any load has grown the brokers' heaps.
/// Rounds × idle connections must stay below RabbitMQ's descriptor limit (927 with Debian's 1024 open files).
/// </para>
/// </summary>
internal static class IdleMemoryWorkload
{
    private const int OpenConcurrency = 8;

    public static async Task RunAsync(BrokerTarget target, CompareOptions options, Metrics metrics, ResultTable table,
        CancellationToken cancellationToken)
    {
        var connections = new List<IConnection>();
        var queues = new List<string>();
        try
        {
            // Connected first: the broker is up and listening, so its process can be found.
            await using IConnection declaring = await target.ConnectAsync("idle-queues", cancellationToken);
            if (target.Pid is not int pid || BrokerProcess.ResidentBytes(pid) is null)
            {
                target.Log("memory rows skipped: broker process unknown (give --gateway-pid/--rabbitmq-pid for a broker on this machine)");
                return;
            }

            target.Log($"memory of process {pid} ({BrokerProcess.Name(pid)})");
            await PrimeAsync(target, declaring, cancellationToken);
            for (int round = 1; round <= options.Rounds; round++)
            {
                string[] batch = [.. Enumerable.Range(queues.Count, options.IdleQueues)
                    .Select(i => string.Create(CultureInfo.InvariantCulture, $"{BrokerTarget.Prefix}idle.{i:D6}"))];
                queues.AddRange(batch);
                long before = await SettledResidentBytesAsync(options, pid, cancellationToken);
                await DeclareAsync(declaring, batch, cancellationToken);
                long after = await SettledResidentBytesAsync(options, pid, cancellationToken);
                new WorkloadContext(target, options, metrics, table, round).Record(metrics.QueueMemory, (after - before) / 1024.0 / batch.Length);
            }

            for (int round = 1; round <= options.Rounds; round++)
            {
                long before = await SettledResidentBytesAsync(options, pid, cancellationToken);
                var batch = new IConnection[options.IdleConnections];
                try
                {
                    await Parallel.ForEachAsync(Enumerable.Range(0, batch.Length),
                        new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency, CancellationToken = cancellationToken },
                        async (i, ct) =>
                        {
                            batch[i] = await target.ConnectAsync("idle", ct);
                            await batch[i].CreateChannelAsync(cancellationToken: ct);
                        });
                }
                finally
                {
                    connections.AddRange(batch.Where(connection => connection is not null));
                }

                long after = await SettledResidentBytesAsync(options, pid, cancellationToken);
                new WorkloadContext(target, options, metrics, table, round).Record(metrics.ConnectionMemory, (after - before) / 1024.0 / batch.Length);
            }

            await declaring.CloseAsync(cancellationToken);
        }
        finally
        {
            await Parallel.ForEachAsync(connections, new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency },
                async (connection, _) => await PublishWorkload.CloseAllAsync([connection]));
            await target.DeleteQueuesAsync(queues);
        }
    }

    // The first connections and declarations also load (the gateway: JIT-compile) the code that serves them, which
    // is not a per-connection cost; a handful of each, released again, keeps that out of round 1.
    private static async Task PrimeAsync(BrokerTarget target, IConnection declaring, CancellationToken cancellationToken)
    {
        string[] primers = [.. Enumerable.Range(0, OpenConcurrency).Select(i => $"{BrokerTarget.Prefix}idle.primer.{i}")];
        await DeclareAsync(declaring, primers, cancellationToken);
        await using (IChannel channel = await declaring.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            foreach (string queue in primers)
            {
                await channel.QueueDeleteAsync(queue, cancellationToken: cancellationToken);
            }
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, OpenConcurrency), cancellationToken, async (_, ct) =>
        {
            await using IConnection connection = await target.ConnectAsync("idle-primer", ct);
            await connection.CreateChannelAsync(cancellationToken: ct);
            await connection.CloseAsync(ct);
        });
    }

    // A few channels in parallel: declaring thousands of queues one round trip at a time takes long on either broker.
    private static Task DeclareAsync(IConnection connection, string[] queues, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(queues.Chunk((queues.Length + OpenConcurrency - 1) / OpenConcurrency),
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

    private static async Task<long> SettledResidentBytesAsync(CompareOptions options, int pid, CancellationToken cancellationToken)
    {
        await Task.Delay(options.Settle, cancellationToken);
        return BrokerProcess.ResidentBytes(pid) ?? throw new InvalidOperationException($"process {pid} is gone");
    }
}
