using System.Net;
using System.Net.Http.Json;
using Controller.Contracts;
using Controller.Service.Hosting;
using Controller.Service.Store;
using Controller.Tests.Support;
using TestSupport;

namespace Controller.Tests;

/// <summary>
/// Two controller instances on one PostgreSQL database: one leads, the standby answers 503 naming it, and when the
/// leader stops (cleanly, or freezes and stops renewing) the standby takes over within about a lease and serves
/// the rules the old leader stored. Lease 2 s: short enough for a quick test, long enough for a busy machine.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FailoverTests(PostgresFixture postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TakeOver = TimeSpan.FromSeconds(30);
    private readonly List<ControllerServer> _servers = [];
    private string _database = "";

    public async Task InitializeAsync() => _database = await postgres.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task One_instance_leads_and_the_standby_answers_503_naming_it()
    {
        var (leader, standby) = await StartPairAsync();

        using var response = await standby.Http.GetAsync(new Uri(ControllerRoutes.Status, UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync(ControllerJsonContext.Default.StandbyProblem))!;
        Assert.Equal((standby.InstanceId, leader.InstanceId, leader.BaseAddress.ToString().TrimEnd('/')), (problem.ControllerId, problem.LeaderId, problem.LeaderUrl));
        // The token is still checked first, and health says who is who.
        using var anonymous = standby.CreateHttpClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(ControllerRoutes.Status, UriKind.Relative))).StatusCode);
        Assert.Contains("standby", await anonymous.GetStringAsync(new Uri(ControllerRoutes.Health, UriKind.Relative)), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => standby.Logs.Contains($"leader is {leader.InstanceId}"), TakeOver, "the standby logging the leader");
        Assert.True(leader.Logs.Contains("became LEADER"), leader.Logs.AllText);
        Assert.Equal(0, GatewayApiTests.Sample(await anonymous.GetStringAsync(new Uri(ControllerRoutes.Metrics, UriKind.Relative)), "controller_leader"));
    }

    [Fact]
    public async Task When_the_leader_stops_the_standby_takes_over_and_serves_the_persisted_rules()
    {
        var (leader, standby) = await StartPairAsync();
        var pause = await leader.Client.PauseAsync(new PauseRequest("/", "orders", "10.0.0.0/8"));
        await leader.Client.SetConsumeLimitAsync(new ConsumeLimit("/", "orders", 40));
        await leader.Client.SetPublishLimitAsync(new PublishLimit("/", "", 8));
        await leader.Client.HeartbeatAsync(Reports.Node("gw-1", [Reports.Queue("/", "orders", consumers: 1)]));
        var before = (await leader.Client.GetStateAsync("gw-1", null, TimeSpan.Zero))!;
        long epoch = (await leader.Client.GetStatusAsync()).Epoch;

        await leader.StopAsync();
        await standby.WaitUntilLeaderAsync(TakeOver);

        var status = await standby.Client.GetStatusAsync();
        Assert.Equal(standby.InstanceId, status.LeaderId);
        Assert.True(status.Epoch > epoch, $"epoch {status.Epoch} after {epoch}");
        Assert.Equal([pause], status.Pauses);
        Assert.Equal([new ConsumeLimit("/", "orders", 40)], status.ConsumeLimits);
        Assert.Equal([new PublishLimit("/", "", 8)], status.PublishLimits);
        // The node registration came along too, so the node's state (and its ETag) is the same on the new leader.
        Assert.Equal("gw-1", Assert.Single(await standby.Client.GetNodesAsync()).NodeId);
        Assert.Equal(before.ETag, (await standby.Client.GetStateAsync("gw-1", null, TimeSpan.Zero))!.ETag);
        Assert.True(leader.Logs.Contains("STEPPED DOWN"), leader.Logs.AllText);
        Assert.True(leader.Logs.Contains("released the leader lease"), leader.Logs.AllText);
    }

    [Fact]
    public async Task A_frozen_leader_steps_down_on_its_own_and_the_standby_takes_over_within_about_a_lease()
    {
        var (leader, standby) = await StartPairAsync();
        await leader.Client.PauseAsync(new PauseRequest("/", "orders"));

        var frozenAt = DateTime.UtcNow;
        leader.Leadership.Freeze();
        await Eventually.TrueAsync(() => !leader.Leadership.IsLeader, TakeOver, "the frozen leader stepping down");
        await standby.WaitUntilLeaderAsync(TakeOver);
        var took = DateTime.UtcNow - frozenAt;

        // The old leader answers as a standby now (it still runs: only its renewals stopped) and cannot write.
        using var refused = await leader.Http.GetAsync(new Uri(ControllerRoutes.Pauses, UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        await Eventually.TrueAsync(() => leader.Logs.Contains("was not renewed in time"), TakeOver, "the frozen leader logging its step-down");
        Assert.Equal("orders", Assert.Single(await standby.Client.GetPausesAsync()).Queue);
        // Lease + a renewal interval is the design; allow a lot more for a loaded machine, but not "never".
        Assert.True(took < TakeOver, $"take-over took {took}");
    }

    [Fact]
    public async Task A_leader_that_loses_its_database_steps_down_within_the_lease()
    {
        await using var leader = await ControllerServer.StartLeaderAsync(o => o with { Database = _database, LeaseDuration = Lease });

        await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(_database).Database!);

        await Eventually.TrueAsync(() => !leader.Leadership.IsLeader, TakeOver, "the leader stepping down without its database");
        using var refused = await leader.Http.GetAsync(new Uri(ControllerRoutes.Status, UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        await Eventually.TrueAsync(() => leader.Logs.Contains("was not renewed in time"), TakeOver, "the step-down logged");
        Assert.True(leader.Logs.Contains("Leader lease check failed"), leader.Logs.AllText);
    }

    [Fact]
    public async Task An_old_leader_whose_term_ended_cannot_write_rules()
    {
        var (leader, standby) = await StartPairAsync();
        var term = leader.Cluster.Term!;
        leader.Leadership.Freeze();
        await standby.WaitUntilLeaderAsync(TakeOver);

        // Straight at the store with the old term, as a request that was already past the leader gate would.
        var store = leader.Service<ControllerStore>();
        await Assert.ThrowsAsync<NotLeaderException>(() => store.WriteAsLeaderAsync(term, (_, _) => Task.CompletedTask, CancellationToken.None));
        // The new leader's term writes fine.
        await standby.Service<ControllerStore>().WriteAsLeaderAsync(standby.Cluster.Term!, (_, _) => Task.CompletedTask, CancellationToken.None);
    }

    [Fact]
    public async Task ControllerClient_given_both_urls_follows_the_leader_across_the_failover()
    {
        var (leader, standby) = await StartPairAsync();
        // The standby first: the client must be sent on to the leader it names.
        using var client = new ControllerClient([standby.BaseAddress, leader.BaseAddress], ControllerServer.Token);
        await client.PauseAsync(new PauseRequest("/", "orders"));
        Assert.Equal(leader.BaseAddress, client.Current);
        var state = (await client.GetStateAsync("gw-1", null, TimeSpan.Zero))!;

        // A long poll waiting on the leader when it goes is let go at once (503 while stopping), not held for its 20 s.
        var poll = client.GetStateAsync("gw-1", state.ETag, TimeSpan.FromSeconds(20));
        await Task.Delay(200);
        var stoppedAt = DateTime.UtcNow;
        await leader.StopAsync();
        var pollEnded = await Task.WhenAny(poll, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(pollEnded == poll, "the long poll was still held 10 s after its leader stopped");
        Assert.True(poll.IsCompletedSuccessfully || poll.Exception?.InnerException is ControllerException { Unavailable: true }, poll.Exception?.ToString());
        Assert.True(DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(15));

        await standby.WaitUntilLeaderAsync(TakeOver);
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    await client.SetConsumeLimitAsync(new ConsumeLimit("/", "orders", 3));
                    return true;
                }
                catch (ControllerException e) when (e.Unavailable)
                {
                    return false;
                }
            },
            TakeOver,
            "the client reaching the new leader");

        Assert.Equal(standby.BaseAddress, client.Current);
        Assert.Equal("orders", Assert.Single(await client.GetPausesAsync()).Queue);
        Assert.Equal([new ConsumeLimit("/", "orders", 3)], await client.GetConsumeLimitsAsync());
    }

    private async Task<(ControllerServer Leader, ControllerServer Standby)> StartPairAsync()
    {
        ControllerOptions Select(ControllerOptions o) => o with { Database = _database, LeaseDuration = Lease };
        var first = await ControllerServer.StartLeaderAsync(Select);
        _servers.Add(first);
        var second = await ControllerServer.StartAsync(Select);
        _servers.Add(second);
        // The standby has seen the lease once it names the leader.
        await Eventually.TrueAsync(() => second.Leadership.Lease.LeaderId == first.InstanceId, TakeOver, "the standby seeing the leader");
        Assert.False(second.Leadership.IsLeader);
        return (first, second);
    }
}
