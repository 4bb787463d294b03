using Controller.Service.Cluster;
using Controller.Service.Leadership;
using Prometheus;

namespace Controller.Service.Hosting;

/// <summary>
/// GET /metrics (Prometheus text format, no token, like /healthz: scrapers carry none and nothing here is secret).
/// Gauges are read from the live state just before each scrape; counters count as things happen. Each app has
/// its own registry, so two controller instances in one process (the fail-over tests) do not share series.
/// </summary>
internal sealed class ControllerMetrics
{
    public const string Path = "/metrics";

    private readonly Counter _stateAnswers;

    private ControllerMetrics(CollectorRegistry registry, Counter stateAnswers)
    {
        Registry = registry;
        _stateAnswers = stateAnswers;
    }

    public CollectorRegistry Registry { get; }

    public static ControllerMetrics Create(ClusterState cluster, LeaderElection leadership)
    {
        var registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(registry);
        var leader = factory.CreateGauge("controller_leader", "1 while this instance is the leader, 0 on a standby.");
        var epoch = factory.CreateGauge("controller_lease_epoch", "Epoch of the leader lease as last seen (increases on every change of holder).");
        var nodes = factory.CreateGauge("controller_nodes", "Registered gateway nodes by state (leader only).", "state");
        var pauses = factory.CreateGauge("controller_pause_rules", "Pause rules in force (leader only).");
        var consumeLimits = factory.CreateGauge("controller_consume_limits", "Queue consume rate limits in force (leader only).");
        var publishLimits = factory.CreateGauge("controller_publish_limits", "Publish rate limits in force (leader only).");
        var inSync = factory.CreateGauge("controller_nodes_in_sync", "Live nodes whose applied state ETag equals their current desired state's.");
        var heartbeats = factory.CreateCounter("controller_heartbeats_total", "Gateway heartbeats received by this instance.");
        var stateAnswers = factory.CreateCounter("controller_state_answers_total", "Answers to gateway state polls: changed (a new state) or not_modified (304).", "result");
        stateAnswers.WithLabels("changed");
        stateAnswers.WithLabels("not_modified");
        registry.AddBeforeCollectCallback(() =>
        {
            leader.Set(leadership.IsLeader ? 1 : 0);
            epoch.Set(leadership.Lease.Epoch);
            var all = cluster.Nodes();
            nodes.WithLabels("live").Set(all.Count(n => n.Node.Live));
            nodes.WithLabels("lost").Set(all.Count(n => !n.Node.Live));
            inSync.Set(all.Count(n => n.Node.Live && n.InSync));
            var rules = cluster.Rules;
            pauses.Set(rules.Pauses.Length);
            consumeLimits.Set(rules.ConsumeLimits.Length);
            publishLimits.Set(rules.PublishLimits.Length);
            heartbeats.IncTo(cluster.HeartbeatCount);
        });
        return new ControllerMetrics(registry, stateAnswers);
    }

    public void StateAnswered(bool changed) => _stateAnswers.WithLabels(changed ? "changed" : "not_modified").Inc();
}
