using System.Collections.Concurrent;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;
using TestSupport;

namespace MetaService.Api.Tests;

/// <summary>MetadataFollower: snapshot then changes, in order, exactly once, through failures of the store.</summary>
public sealed class FollowerTests : SqliteServiceTest
{
    [Fact]
    public async Task Follows_the_service_from_its_snapshot()
    {
        var recorder = new Recorder();
        await using var follower = recorder.Follow(Server.Client);
        await follower.StartAsync();
        var snapshot = Assert.Single(recorder.Snapshots);
        Assert.Equal(snapshot.Revision, follower.Revision);
        Assert.Contains(snapshot.Users, u => u.Name == "guest" && u.PasswordHash.Length > 0);

        await Server.Client.DeclareExchangeAsync(new ExchangeRecord("/", "f.x", "fanout", true, false, false, []), false);
        await Server.Client.DeclareQueueAsync(new QueueRecord("/", "f.q", true, false, []), false);
        await Server.Client.BindAsync(new BindingRecord("/", "f.x", "f.q", BindingDestinationType.Queue, "", []));
        var revision = (await Server.Client.GetSnapshotAsync()).Revision;

        await follower.WaitForRevisionAsync(revision).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(revision, follower.Revision);
        recorder.AssertContiguousFrom(snapshot.Revision);
        Assert.Equal(["exchange", "queue", "binding"], recorder.Changes.Select(c => c.Entity));
    }

    [Fact]
    public async Task Retries_a_failing_store_and_misses_nothing()
    {
        var flaky = new FlakyStore(Embedded);
        var retries = new ConcurrentQueue<Exception>();
        var recorder = new Recorder();
        await using var follower = recorder.Follow(flaky, new MetadataFollowerOptions
        {
            PollWait = TimeSpan.FromMilliseconds(200),
            MinRetryDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromMilliseconds(50),
            OnRetry = (e, _) => retries.Enqueue(e),
        });

        flaky.Failing = true;
        var start = follower.StartAsync();
        await Task.Delay(200);
        Assert.False(start.IsCompleted);
        flaky.Failing = false;
        await start.WaitAsync(TimeSpan.FromSeconds(10));
        var from = follower.Revision;

        for (var i = 0; i < 10; i++)
        {
            flaky.Failing = i % 3 == 0;
            await Embedded.DeclareQueueAsync(new QueueRecord("/", $"flaky-{i}", true, false, []), false);
            await Task.Delay(30);
        }

        flaky.Failing = false;
        var revision = (await Embedded.GetSnapshotAsync()).Revision;
        await follower.WaitForRevisionAsync(revision).WaitAsync(TimeSpan.FromSeconds(20));
        recorder.AssertContiguousFrom(from);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"flaky-{i}"), recorder.Changes.Select(c => c.Value["name"]!.GetValue<string>()));
        Assert.NotEmpty(retries);
        Assert.All(retries, e => Assert.IsType<HttpRequestException>(e));
    }

    [Fact]
    public async Task A_throwing_callback_stops_the_follower()
    {
        var follower = new MetadataFollower(
            Server.Client,
            (_, _) => ValueTask.CompletedTask,
            (_, _) => throw new InvalidOperationException("cache broke"));
        await follower.StartAsync();
        await Server.Client.PutVirtualHostAsync(new VirtualHostRecord("boom"));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => follower.Completion.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("cache broke", failure.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => follower.WaitForRevisionAsync(long.MaxValue));
        await follower.DisposeAsync();
    }

    /// <summary>Records what a follower hands to its callbacks.</summary>
    internal sealed class Recorder
    {
        private readonly ConcurrentQueue<MetadataSnapshot> _snapshots = new();
        private readonly ConcurrentQueue<MetadataChange> _changes = new();

        public IReadOnlyList<MetadataSnapshot> Snapshots => [.. _snapshots];

        public IReadOnlyList<MetadataChange> Changes => [.. _changes];

        public MetadataFollower Follow(IMetadataStore store, MetadataFollowerOptions? options = null) =>
            new(
                store,
                (snapshot, _) =>
                {
                    _snapshots.Enqueue(snapshot);
                    return ValueTask.CompletedTask;
                },
                (change, _) =>
                {
                    _changes.Enqueue(change);
                    return ValueTask.CompletedTask;
                },
                options);

        /// <summary>Every revision after <paramref name="revision"/>, once each, in order.</summary>
        public void AssertContiguousFrom(long revision)
        {
            var revisions = Changes.Select(c => c.Revision).ToList();
            Assert.Equal(Enumerable.Range(1, revisions.Count).Select(i => revision + i), revisions);
        }
    }

    /// <summary>A store whose snapshot and change feed fail (as an unreachable service does) while <see cref="Failing"/>.</summary>
    private sealed class FlakyStore(IMetadataStore inner) : DelegatingStore(inner)
    {
        public volatile bool Failing;

        public override Task<MetadataSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
            Failing ? Task.FromException<MetadataSnapshot>(new HttpRequestException("service down")) : base.GetSnapshotAsync(cancellationToken);

        public override Task<ChangeBatch> GetChangesAsync(long afterRevision, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
            Failing
                ? Task.FromException<ChangeBatch>(new HttpRequestException("service down"))
                : base.GetChangesAsync(afterRevision, maxWait, cancellationToken);
    }
}

/// <summary>
/// The follower across restarts of every process: the service it follows is killed, a second service
/// instance changes the same database while it is down, and the first comes back on its address. The
/// follower retries meanwhile and catches up from its last revision: nothing missed, nothing twice.
/// </summary>
public abstract class FollowerRestartTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync() => _database = await CreateDatabaseAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Follower_catches_up_after_the_service_restarts()
    {
        var port = ServiceProcess.FreePort();
        var first = await ServiceProcess.StartAsync(_database.Switches, port);
        using var firstClient = first.CreateClient();
        var retries = 0;
        var recorder = new FollowerTests.Recorder();
        await using var follower = recorder.Follow(firstClient, new MetadataFollowerOptions
        {
            PollWait = TimeSpan.FromSeconds(5),
            MinRetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(500),
            OnRetry = (_, _) => Interlocked.Increment(ref retries),
        });
        await follower.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var from = follower.Revision;

        await firstClient.DeclareQueueAsync(new QueueRecord("/", "before-restart", true, false, []), false);
        await follower.WaitForRevisionAsync(from + 1).WaitAsync(TimeSpan.FromSeconds(20));

        // The service dies; a second instance changes the database while the first is down.
        await first.KillAsync();
        var second = await ServiceProcess.StartAsync(_database.Switches, ServiceProcess.FreePort());
        long lastRevision;
        using (var secondClient = second.CreateClient())
        {
            await secondClient.PutVirtualHostAsync(new VirtualHostRecord("while-down"));
            await secondClient.DeclareQueueAsync(new QueueRecord("while-down", "q", true, false, []), false);
            await secondClient.DeleteQueueAsync("/", "before-restart");
            await secondClient.PutUserAsync(new UserRecord("late", RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));
            lastRevision = (await secondClient.GetSnapshotAsync()).Revision;
        }

        await second.DisposeAsync();
        await Task.Delay(300);
        Assert.True(follower.Revision < lastRevision);

        // The first instance comes back on the same address, over the same database.
        await using var restarted = await ServiceProcess.StartAsync(_database.Switches, port);
        await follower.WaitForRevisionAsync(lastRevision).WaitAsync(TimeSpan.FromSeconds(60));

        recorder.AssertContiguousFrom(from);
        Assert.Contains(recorder.Changes, c => c.Entity == "vhost" && c.Value["name"]!.GetValue<string>() == "while-down");
        Assert.Contains(
            recorder.Changes,
            c => c is { Entity: "queue", Operation: ChangeOperation.Delete } && c.Value["name"]!.GetValue<string>() == "before-restart");
        Assert.Contains(recorder.Changes, c => c.Entity == "user" && c.Value["name"]!.GetValue<string>() == "late");
        Assert.True(retries > 0);

        // And the state itself survived every process.
        using var client = restarted.CreateClient();
        Assert.NotNull(await client.GetQueueAsync("while-down", "q"));
        Assert.Null(await client.GetQueueAsync("/", "before-restart"));
        Assert.Equal(lastRevision, (await client.GetSnapshotAsync()).Revision);
    }
}

public sealed class SqliteFollowerRestartTests : FollowerRestartTests
{
    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresFollowerRestartTests(PostgresFixture postgres) : FollowerRestartTests
{
    protected override async Task<TestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync(postgres);
}
