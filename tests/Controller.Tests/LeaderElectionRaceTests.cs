using Controller.Contracts;
using Controller.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Controller.Tests;

/// <summary>
/// The election's step-down at its local deadline against a renewal in flight, made deterministic with a fake
/// clock: the renewal is held right before it takes the lead, the clock moves to the old deadline (the step-down
/// timer fires and clears the state), and then the renewal goes on.
/// </summary>
public sealed class LeaderElectionRaceTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    private readonly SqliteDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_step_down_landing_during_a_renewal_never_leaves_a_leader_with_an_empty_state()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await ControllerServer.StartLeaderAsync(o => _database.Select(o) with { LeaseDuration = Lease }, time);
        await server.Client.PauseAsync(new PauseRequest("/", "orders"));
        var term = server.Cluster.Term;

        // The first term took the lead at the fake clock's start, so its deadline is one lease later. The renewal
        // starts a third of a lease in; before it takes the lead, the clock reaches that deadline.
        var renewalStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steppedDown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Leadership.BeforeTakingLead = async () =>
        {
            if (steppedDown.Task.IsCompleted)
            {
                return;
            }

            // Not from inside the Advance that started the renewal: the fake clock runs no timer from a nested one.
            await renewalStarted.Task;
            time.Advance(Lease - Lease / 3);
            steppedDown.TrySetResult();
        };
        await Task.Run(() => time.Advance(Lease / 3));
        renewalStarted.TrySetResult();
        await steppedDown.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await server.WaitUntilLeaderAsync(TimeSpan.FromSeconds(30));
        Assert.True(server.Logs.Contains("was not renewed in time"), server.Logs.AllText);
        // Leading again means leading with the rules: the state was loaded again for the term, not left empty.
        Assert.Equal(term, server.Cluster.Term);
        Assert.Equal("orders", Assert.Single(server.Cluster.Rules.Pauses).Queue);
        Assert.Equal("orders", Assert.Single(await server.Client.GetPausesAsync()).Queue);
    }
}
