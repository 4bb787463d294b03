using Controller.Service.Hosting;
using Controller.Service.Leadership;

namespace Controller.Service.Cluster;

/// <summary>
/// Notices lost gateways on the leader: a node is lost once its last heartbeat is older than the node timeout.
/// Checks four times per timeout (at most every quarter second), so a loss shows within about 1.25 timeouts.
/// </summary>
internal sealed class LivenessMonitor(ClusterState cluster, LeaderElection leadership, ControllerOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromTicks(Math.Min(options.NodeTimeout.Ticks / 4, TimeSpan.FromMilliseconds(250).Ticks));
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(interval, time, stoppingToken);
            if (leadership.IsLeader)
            {
                cluster.SweepLiveness();
            }
        }
    }
}
