using Prometheus;

namespace Gateway.Host.Control;

/// <summary>
/// The control agent's metrics, on the gateway's own registry (GatewayMetrics.Registry) so one scrape shows
/// them beside the AMQP ones: whether a controller leader answers, how old the state in force is, and how
/// many states were applied.
/// </summary>
public sealed class ControllerAgentMetrics
{
    private readonly Gauge _connected;
    private readonly Counter _applied;
    private readonly TimeProvider _time;
    private long _confirmedAtTimestamp;

    public ControllerAgentMetrics(CollectorRegistry registry, TimeProvider time)
    {
        _time = time;
        _confirmedAtTimestamp = time.GetTimestamp();
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _connected = factory.CreateGauge("gateway_controller_connected", "1 while the controller's leader answers this gateway's heartbeats, else 0.");
        _applied = factory.CreateCounter("gateway_control_state_applied_total", "Desired states (pauses, rate limits) received from the controller and applied.");
        var age = factory.CreateGauge(
            "gateway_control_state_age_seconds",
            "Seconds since a controller last confirmed the state in force (before the first state: since the agent started).");
        // Read at scrape time: an age is only right when it is computed then.
        registry.AddBeforeCollectCallback(() => age.Set(StateAge.TotalSeconds));
    }

    public bool Connected => _connected.Value > 0;

    public double AppliedCount => _applied.Value;

    public TimeSpan StateAge => _time.GetElapsedTime(Interlocked.Read(ref _confirmedAtTimestamp));

    public void SetConnected(bool connected) => _connected.Set(connected ? 1 : 0);

    public void StateApplied() => _applied.Inc();

    public void StateConfirmed() => Interlocked.Exchange(ref _confirmedAtTimestamp, _time.GetTimestamp());
}
