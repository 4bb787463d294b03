using System.Diagnostics;
using Controller.Contracts;
using Gateway.Host.Control;
using Gateway.Server.Control;
using Microsoft.Extensions.Logging;
using TestSupport;

namespace Gateway.Server.Tests.Control;

/// <summary>The control agent against in-test controller instances (<see cref="FakeController"/>).</summary>
public sealed class ControllerAgentTests
{
    private static readonly GatewayIdentity Identity = new("gw-test", "127.0.0.1:5999", null, DateTimeOffset.UtcNow);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private sealed class RunningAgent(ControllerAgent agent, ControllerAgentMetrics metrics, CapturingLoggerProvider logs) : IAsyncDisposable
    {
        public ControllerAgent Agent => agent;

        public ControllerAgentMetrics Metrics => metrics;

        public CapturingLoggerProvider Logs => logs;

        public async ValueTask DisposeAsync()
        {
            await agent.StopAsync(CancellationToken.None);
            agent.Dispose();
        }
    }

    private static async Task<RunningAgent> StartAgentAsync(ITrafficControl traffic, params Uri[] controllers)
    {
        var logs = new CapturingLoggerProvider();
        var metrics = new ControllerAgentMetrics(Prometheus.Metrics.NewCustomRegistry(), TimeProvider.System);
        var timing = ControllerAgentTiming.Default with { HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
        var agent = new ControllerAgent(
            new ControllerClient(controllers, "test-token", requestTimeout: TimeSpan.FromSeconds(2)),
            () => traffic,
            () => Identity,
            timing,
            metrics,
            logs.CreateLogger("Gateway.Controller"));
        await agent.StartAsync(CancellationToken.None);
        return new RunningAgent(agent, metrics, logs);
    }

    [Fact]
    public async Task A_state_change_reaches_the_gateway_within_a_second()
    {
        await using var controller = await FakeController.StartAsync();
        var traffic = new RecordingTrafficControl();
        await using var agent = await StartAgentAsync(traffic, controller.Url);
        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt(ControlState.Empty.ETag) is not null, Deadline, "the first state");
        // Let the agent settle into its long poll, so the change is what wakes it.
        await GatewayFixture.WaitUntilAsync(() => controller.Reports.Count >= 2, Deadline, "heartbeats");

        long changedAt = Stopwatch.GetTimestamp();
        controller.SetState(FakeController.StateWithPause("s1", "orders"));

        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("s1") is not null, Deadline, "the new state");
        var delay = Stopwatch.GetElapsedTime(changedAt, traffic.AppliedAt("s1")!.Value);
        Assert.True(delay < TimeSpan.FromSeconds(1), $"applied after {delay.TotalMilliseconds:F0} ms");
        Assert.Equal("orders", Assert.Single(traffic.Current.Pauses).Queue);
        Assert.Equal(2, agent.Metrics.AppliedCount);
        Assert.True(agent.Logs.Contains(3006));
        // The next heartbeats report the state in force.
        await GatewayFixture.WaitUntilAsync(() => controller.Reports.Any(r => r.AppliedETag == "s1"), Deadline, "a heartbeat with the applied ETag");
    }

    [Fact]
    public async Task A_state_that_fails_to_apply_is_retried_with_backoff_not_in_a_tight_loop()
    {
        await using var controller = await FakeController.StartAsync();
        var traffic = new RecordingTrafficControl { RefusedETag = "bad" };
        await using var agent = await StartAgentAsync(traffic, controller.Url);
        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt(ControlState.Empty.ETag) is not null, Deadline, "the first state");

        controller.SetState(FakeController.StateWithPause("bad", "orders"));
        await GatewayFixture.WaitUntilAsync(() => agent.Logs.Contains(3007), Deadline, "the failed apply logged");
        int pollsBefore = controller.StateRequests;
        await Task.Delay(TimeSpan.FromSeconds(2));

        // 200 ms doubling to 2 s: a handful of polls in 2 s, where retrying at once would make hundreds.
        Assert.InRange(controller.StateRequests - pollsBefore, 1, 10);
        Assert.Equal(ControlState.Empty.ETag, traffic.Current.ETag);   // the previous state stays in force
    }

    [Fact]
    public async Task Heartbeats_carry_rates_from_counter_differences()
    {
        var t0 = DateTimeOffset.UtcNow;
        QueueTraffic Queue(long published, long delivered) => new("/", "orders", 7, 2, 1, published, delivered, delivered, 0, false, null);
        var traffic = new RecordingTrafficControl(
            new TrafficSnapshot(t0, 1, 1, [Queue(100, 40)], [], []),
            new TrafficSnapshot(t0.AddSeconds(2), 1, 1, [Queue(300, 240)], [], []),
            new TrafficSnapshot(t0.AddSeconds(4), 1, 1, [Queue(300, 250)], [], []));
        await using var controller = await FakeController.StartAsync();
        await using var agent = await StartAgentAsync(traffic, controller.Url);

        await GatewayFixture.WaitUntilAsync(() => controller.Reports.Count >= 3, Deadline, "three heartbeats");

        var rates = controller.Reports.Take(3).Select(r => Assert.Single(r.Queues)).Select(q => (q.PublishRate, q.DeliverRate)).ToArray();
        Assert.Equal([(0.0, 0.0), (100.0, 100.0), (0.0, 5.0)], rates);
        var first = controller.Reports.First();
        Assert.Equal(("gw-test", "127.0.0.1:5999"), (first.NodeId, first.AmqpEndpoint));
        Assert.True(agent.Metrics.Connected);
    }

    [Fact]
    public async Task A_lost_controller_leaves_the_last_state_in_force_and_the_agent_moves_to_the_next_url()
    {
        var first = await FakeController.StartAsync("controller-1");
        await using var second = await FakeController.StartAsync("controller-2");
        second.StandbyOf = first;
        first.SetState(FakeController.StateWithPause("s1", "orders"));
        var traffic = new RecordingTrafficControl();
        await using var agent = await StartAgentAsync(traffic, first.Url, second.Url);
        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("s1") is not null, Deadline, "the first leader's state");

        await first.DisposeAsync();
        await GatewayFixture.WaitUntilAsync(() => !agent.Metrics.Connected, Deadline, "the agent noticing the loss");
        await Task.Delay(1000);   // several failed heartbeats and polls

        Assert.Equal("s1", traffic.Current.ETag);
        Assert.Single(traffic.Applied, a => a.State.ETag == "s1");
        Assert.DoesNotContain(traffic.Applied, a => a.State.ETag == ControlState.Empty.ETag && a.Timestamp > traffic.AppliedAt("s1"));
        Assert.Equal(1, agent.Logs.Count(3003));   // "lost" once, not at every retry
        Assert.True(agent.Metrics.StateAge > TimeSpan.FromSeconds(0.5), $"state age {agent.Metrics.StateAge}");

        second.StandbyOf = null;   // the standby takes over
        second.SetState(FakeController.StateWithPause("s2", "invoices"));
        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("s2") is not null, Deadline, "the new leader's state");
        await GatewayFixture.WaitUntilAsync(() => agent.Metrics.Connected, Deadline, "connected again");
        Assert.Contains(second.Reports, r => r.NodeId == "gw-test");
        Assert.Contains(agent.Logs.Entries, e => e.EventId == 3002 && e.Message.Contains("controller-2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_standby_names_the_leader_and_the_agent_follows_it()
    {
        await using var leader = await FakeController.StartAsync("leader");
        await using var standby = await FakeController.StartAsync("standby");
        standby.StandbyOf = leader;
        leader.SetState(FakeController.StateWithPause("from-leader", "orders"));
        var traffic = new RecordingTrafficControl();

        await using var agent = await StartAgentAsync(traffic, standby.Url);   // told only of the standby

        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("from-leader") is not null, Deadline, "the leader's state");
        await GatewayFixture.WaitUntilAsync(() => leader.Reports.Count >= 5, Deadline, "heartbeats at the leader");
        Assert.Empty(standby.Reports);
        // Once named, the leader is asked directly: the standby saw only the first heartbeat and state poll.
        Assert.InRange(standby.ApiRequests, 1, 2);
        Assert.Contains(agent.Logs.Entries, e => e.EventId == 3002 && e.Message.Contains(leader.Url.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_heartbeat_that_sees_a_newer_state_cuts_short_a_long_poll_held_by_a_former_leader()
    {
        await using var first = await FakeController.StartAsync("controller-1");
        await using var second = await FakeController.StartAsync("controller-2");
        second.StandbyOf = first;
        first.SetState(FakeController.StateWithPause("from-first", "orders"));
        second.SetState(FakeController.StateWithPause("from-second", "orders"));
        var traffic = new RecordingTrafficControl();
        await using var agent = await StartAgentAsync(traffic, first.Url, second.Url);
        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("from-first") is not null, Deadline, "the first leader's state");
        await GatewayFixture.WaitUntilAsync(() => first.StateRequests >= 2, Deadline, "a long poll held by the first leader");

        // Leadership moves; the first instance keeps holding the poll it took (for up to 10 s).
        first.StandbyOf = second;
        second.StandbyOf = null;
        var moved = Stopwatch.StartNew();

        await GatewayFixture.WaitUntilAsync(() => traffic.AppliedAt("from-second") is not null, Deadline, "the new leader's state");
        Assert.True(moved.Elapsed < TimeSpan.FromSeconds(5), $"applied after {moved.Elapsed.TotalSeconds:F1} s (the held poll lasts 10 s)");
    }

    [Fact]
    public async Task A_failing_snapshot_is_logged_once_as_the_gateways_fault_and_heartbeats_resume()
    {
        await using var controller = await FakeController.StartAsync();
        var traffic = new RecordingTrafficControl { FailingSnapshots = 5 };
        await using var agent = await StartAgentAsync(traffic, controller.Url);

        await GatewayFixture.WaitUntilAsync(() => !controller.Reports.IsEmpty, Deadline, "a heartbeat once snapshots work");

        Assert.Equal(1, agent.Logs.Count(3010));
        Assert.False(agent.Logs.Contains(3004));   // not blamed on the controller
        Assert.Equal(0, traffic.FailingSnapshots);
    }

    [Fact]
    public async Task An_unreachable_controller_at_start_is_logged_once_and_retried_until_one_answers()
    {
        var controller = await FakeController.StartAsync();
        var url = controller.Url;
        await controller.DisposeAsync();
        var traffic = new RecordingTrafficControl();
        await using var agent = await StartAgentAsync(traffic, url);

        await GatewayFixture.WaitUntilAsync(() => agent.Logs.Contains(3004), Deadline, "the unreachable line");
        await Task.Delay(700);

        Assert.Equal(1, agent.Logs.Count(3004));
        Assert.Empty(traffic.Applied);
        Assert.False(agent.Metrics.Connected);
    }

    [Fact]
    public async Task A_refused_token_is_logged_and_leaves_the_state_alone()
    {
        await using var controller = await FakeController.StartAsync(token: "another-token");
        var traffic = new RecordingTrafficControl();
        await using var agent = await StartAgentAsync(traffic, controller.Url);

        await GatewayFixture.WaitUntilAsync(() => agent.Logs.Contains(3005), Deadline, "the refusal");

        Assert.Contains(agent.Logs.Entries, e => e.EventId == 3005 && e.Level == LogLevel.Error && e.Message.Contains("401", StringComparison.Ordinal));
        Assert.Empty(traffic.Applied);
    }
}
