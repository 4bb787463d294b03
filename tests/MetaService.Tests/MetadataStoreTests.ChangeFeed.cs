using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Core;

namespace MetaService.Tests;

// The change feed, the snapshot, and a restart of the store.
public abstract partial class MetadataStoreTests
{
    [Fact]
    public async Task Every_mutation_is_logged_with_consecutive_revisions_in_order()
    {
        var before = await CurrentRevisionAsync();
        var vhost = Unique("v");
        await Store.PutVirtualHostAsync(new VirtualHostRecord(vhost));
        await Store.DeclareExchangeAsync(Exchange(vhost, "x", "fanout"), passive: false);
        var queue = await Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-max-length", 10))), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-max-length", 10))), passive: false); // no change
        await Store.BindAsync(QueueBinding(vhost, "x", "q", "k"));
        await Store.BindAsync(QueueBinding(vhost, "x", "q", "k")); // no change
        await Store.UnbindAsync(QueueBinding(vhost, "x", "q", "k"));
        await Store.DeleteQueueAsync(vhost, "q");

        var changes = await ChangesAfterAsync(before);
        Assert.Equal(Enumerable.Range(1, changes.Count).Select(i => before + i), changes.Select(c => c.Revision));
        Assert.Equal(
            ["vhost", "exchange", "exchange", "exchange", "exchange", "exchange", "exchange", "exchange", "queue", "binding", "binding", "queue"],
            changes.Select(c => c.Entity));
        Assert.Equal(
            [.. Enumerable.Repeat(ChangeOperation.Upsert, 10), ChangeOperation.Delete, ChangeOperation.Delete],
            changes.Select(c => c.Operation));

        // Values are the records, readable as the Contracts types.
        var logged = changes[8].Value.Deserialize<QueueRecord>(JsonSerializerOptions.Web)!;
        Assert.Equal((vhost, "q", queue.Topic), (logged.VirtualHost, logged.Name, logged.Topic));
        Assert.Equal(10, logged.Arguments["x-max-length"]!.GetValue<int>());
        var binding = changes[9].Value.Deserialize<BindingRecord>(JsonSerializerOptions.Web)!;
        Assert.Equal(("x", "q", BindingDestinationType.Queue, "k"), (binding.Source, binding.Destination, binding.DestinationType, binding.RoutingKey));
        Assert.Equal(queue.Topic, changes[^1].Value["topic"]!.GetValue<string>());

        Assert.Equal(changes[^1].Revision, await CurrentRevisionAsync());
    }

    [Fact]
    public async Task Batches_are_bounded_and_resume_where_they_ended()
    {
        var store = await OpenStoreAsync(new MetadataStoreOptions { MaxChangesPerBatch = 3 });
        var before = await CurrentRevisionAsync();
        await NewVirtualHostAsync(); // 7 changes

        var first = await store.GetChangesAsync(before, TimeSpan.Zero);
        Assert.Equal(3, first.Changes.Count);
        Assert.Equal(before + 3, first.Revision);
        var second = await store.GetChangesAsync(first.Revision, TimeSpan.Zero);
        Assert.Equal([before + 4, before + 5, before + 6], second.Changes.Select(c => c.Revision));
        var third = await store.GetChangesAsync(second.Revision, TimeSpan.Zero);
        Assert.Equal(before + 7, Assert.Single(third.Changes).Revision);
    }

    [Fact]
    public async Task A_long_poll_returns_empty_at_its_deadline()
    {
        var revision = await CurrentRevisionAsync();
        var clock = Stopwatch.StartNew();
        var batch = await Store.GetChangesAsync(revision, TimeSpan.FromMilliseconds(400));
        Assert.Empty(batch.Changes);
        Assert.Equal(revision, batch.Revision);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(5));

        // Asking from beyond the end of the log (another database) answers at once with the real revision.
        var beyond = await Store.GetChangesAsync(revision + 1000, TimeSpan.FromSeconds(30));
        Assert.Equal(revision, beyond.Revision);
    }

    [Fact]
    public async Task A_long_poll_wakes_at_once_on_a_commit_in_this_process()
    {
        var revision = await CurrentRevisionAsync();
        var poll = Store.GetChangesAsync(revision, TimeSpan.FromSeconds(20));
        await Task.Delay(400);
        Assert.False(poll.IsCompleted);

        var vhost = Unique("v");
        await Store.PutVirtualHostAsync(new VirtualHostRecord(vhost));
        var committed = Stopwatch.StartNew();
        var batch = await poll.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.InRange(committed.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
        Assert.Equal(revision + 1, batch.Changes[0].Revision);
        Assert.Equal(vhost, batch.Changes[0].Value["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_long_poll_sees_a_commit_by_another_process_within_the_poll_interval()
    {
        // A store whose connection string differs shares no in-process signal: only the database tells it.
        var other = await OpenStoreAsync(connectionString: await AsAnotherProcessAsync(ConnectionString));
        var revision = await CurrentRevisionAsync();
        var poll = other.GetChangesAsync(revision, TimeSpan.FromSeconds(20));
        await Task.Delay(400);
        Assert.False(poll.IsCompleted);

        await Store.PutVirtualHostAsync(new VirtualHostRecord(Unique("v")));
        var committed = Stopwatch.StartNew();
        var batch = await poll.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.InRange(committed.Elapsed, TimeSpan.Zero, TimeSpan.FromMilliseconds(900));
        Assert.NotEmpty(batch.Changes);
    }

    [Fact]
    public async Task State_and_feed_survive_a_restart_and_a_follower_catches_up()
    {
        var database = await NewDatabaseAsync();
        var first = await OpenStoreAsync(connectionString: database);
        await first.EnsureDefaultsAsync();
        var queue = await first.DeclareQueueAsync(Queue("/", "durable-q", args: Args(("x-message-ttl", 5000))), passive: false);
        await first.DeclareExchangeAsync(Exchange("/", "events", "topic"), passive: false);
        await first.BindAsync(QueueBinding("/", "events", "durable-q", "order.*"));
        var followedUpTo = (await first.GetSnapshotAsync()).Revision;
        await first.PutPolicyAsync(new PolicyRecord("/", "limits", ".*", "queues", 0, Args(("max-length", 100))));
        await first.DeleteExchangeAsync("/", "events", ifUnused: false);
        var snapshotBefore = await first.GetSnapshotAsync();
        var feedBefore = await ChangesAfterAsync(0, first);

        // Restart: drop every connection and open a new store on the same database.
        ReleaseConnections();
        var second = await OpenStoreAsync(connectionString: database);

        var snapshotAfter = await second.GetSnapshotAsync();
        Assert.Equal(JsonSerializer.Serialize(snapshotBefore), JsonSerializer.Serialize(snapshotAfter));
        Assert.Equal(queue.Topic, (await second.GetQueueAsync("/", "durable-q"))!.Topic);
        Assert.Equal(
            feedBefore.Select(c => (c.Revision, c.Entity, c.Operation, c.Value.ToJsonString())),
            (await ChangesAfterAsync(0, second)).Select(c => (c.Revision, c.Entity, c.Operation, c.Value.ToJsonString())));

        // A follower that had applied up to followedUpTo gets exactly what it missed.
        var missed = await ChangesAfterAsync(followedUpTo, second);
        Assert.Equal(["policy", "binding", "exchange"], missed.Select(c => c.Entity));
        Assert.Equal(followedUpTo + 1, missed[0].Revision);

        // And the log goes on from where it was.
        await second.DeclareQueueAsync(Queue("/", "after-restart"), passive: false);
        var next = Assert.Single(await ChangesAfterAsync(snapshotAfter.Revision, second));
        Assert.Equal(snapshotAfter.Revision + 1, next.Revision);
    }

    [Fact]
    public async Task A_snapshot_is_exactly_the_state_at_its_revision_while_writers_run()
    {
        var vhost = await NewVirtualHostAsync();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                await Store.DeclareQueueAsync(Queue(vhost, $"q{i}"), passive: false);
                await Store.BindAsync(QueueBinding(vhost, "amq.direct", $"q{i}", $"k{i}"));
                if (i % 3 == 2)
                {
                    await Store.DeleteQueueAsync(vhost, $"q{i - 1}");
                }
            }
        });

        var other = await OpenStoreAsync(connectionString: await AsAnotherProcessAsync(ConnectionString));
        var checkedSnapshots = 0;
        while (!writer.IsCompleted || checkedSnapshots == 0)
        {
            var snapshot = await other.GetSnapshotAsync();
            var replayed = Replay(await ChangesAfterAsync(0, other), snapshot.Revision);
            Assert.Equal(replayed, Describe(snapshot));
            checkedSnapshots++;
        }

        await writer;
        Assert.True(checkedSnapshots > 0);
    }

    /// <summary>Closes pooled connections, as a stopped process would.</summary>
    protected abstract void ReleaseConnections();

    /// <summary>The state the change log describes up to <paramref name="revision"/>, as sorted "entity|key =&gt; value" lines.</summary>
    private static List<string> Replay(List<MetadataChange> changes, long revision)
    {
        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var change in changes.Where(c => c.Revision <= revision))
        {
            var key = change.Entity + "|" + KeyOf(change.Entity, change.Value);
            if (change.Operation == ChangeOperation.Delete)
            {
                Assert.True(state.Remove(key), $"revision {change.Revision} deletes {key}, which does not exist");
            }
            else
            {
                state[key] = Canonical(change.Value);
            }
        }

        return [.. state.Select(p => p.Key + " => " + p.Value).Order(StringComparer.Ordinal)];
    }

    private static List<string> Describe(MetadataSnapshot snapshot)
    {
        IEnumerable<(string Entity, JsonObject Value)> Values<T>(string entity, IEnumerable<T> records) =>
            records.Select(r => (entity, JsonSerializer.SerializeToNode(r, JsonSerializerOptions.Web)!.AsObject()));

        return
        [
            .. Values("vhost", snapshot.VirtualHosts)
                .Concat(Values("user", snapshot.Users))
                .Concat(Values("permission", snapshot.Permissions))
                .Concat(Values("exchange", snapshot.Exchanges))
                .Concat(Values("queue", snapshot.Queues))
                .Concat(Values("binding", snapshot.Bindings))
                .Concat(Values("policy", snapshot.Policies))
                .Select(e => e.Entity + "|" + KeyOf(e.Entity, e.Value) + " => " + Canonical(e.Value))
                .Order(StringComparer.Ordinal),
        ];
    }

    private static string KeyOf(string entity, JsonObject value)
    {
        string S(string name) => value[name]?.ToJsonString() ?? "null";
        return entity switch
        {
            "vhost" or "user" => S("name"),
            "permission" => S("user") + "|" + S("virtualHost"),
            "binding" => string.Join('|', S("virtualHost"), S("source"), S("destination"), S("destinationType"), S("routingKey"), Canonical(value["arguments"])),
            _ => S("virtualHost") + "|" + S("name"),
        };
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => "{" + string.Join(',', obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray array => "[" + string.Join(',', array.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}
