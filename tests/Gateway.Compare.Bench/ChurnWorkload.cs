using RabbitMQ.Client;

namespace Gateway.Compare.Bench;

/// <summary>
/// Workload 6: connection churn. <see cref="CompareOptions.ChurnClients"/> loops each open a connection (the full
/// handshake: protocol header, start/tune/open with PLAIN login and vhost check) and close it again, one after the
/// other; the rate is completed open+close pairs per second over all loops.
/// </summary>
internal static class ChurnWorkload
{
    public static async Task RunAsync(WorkloadContext context, CancellationToken cancellationToken)
    {
        var cycles = new Counter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task load = Task.WhenAll(Enumerable.Range(0, context.Options.ChurnClients).Select(_ => Task.Run(async () =>
        {
            // The token is checked between cycles only: a handshake cut off half-way would leave work for the broker.
            while (!stop.IsCancellationRequested)
            {
                using IConnection connection = await context.Target.ConnectAsync("churn", CancellationToken.None);
                await connection.CloseAsync();
                cycles.Add();
            }
        }, CancellationToken.None)));
        try
        {
            context.Record(context.Metrics.Churn, await RateWindow.MeasureAsync(cycles, load, context.Options, cancellationToken));
        }
        finally
        {
            await stop.CancelAsync();
            await load;
        }
    }
}
