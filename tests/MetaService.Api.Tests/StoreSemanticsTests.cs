using System.Text.Json.Nodes;
using MetaService.Api.Hosting;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;
using TestSupport;

namespace MetaService.Api.Tests;

/// <summary>
/// Remote-vs-embedded parity: one set of store-semantics tests run against EfMetadataStore in-process and
/// against MetaServiceClient talking to the real service, each on SQLite and on PostgreSQL. On the remote
/// runs every refusal is also provoked on an embedded store over the same database, and the two
/// exceptions must carry the same reply code and the same text.
/// </summary>
public abstract class StoreSemanticsTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private ApiServer? _server;

    /// <summary>The store under test: embedded, or the client of a service on the same database.</summary>
    protected IMetadataStore Store { get; private set; } = null!;

    /// <summary>An embedded store on the same database.</summary>
    protected IMetadataStore Embedded { get; private set; } = null!;

    protected abstract bool Remote { get; }

    protected abstract Task<TestDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        _database = await CreateDatabaseAsync();
        Embedded = await _database.OpenStoreAsync();
        if (Remote)
        {
            _server = await ApiServer.StartAsync(_database.Select(new MetaServiceOptions()));
            Store = _server.Client;
        }
        else
        {
            Store = Embedded;
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    // ---- vhosts, users, permissions

    [Fact]
    public async Task First_boot_defaults_are_there()
    {
        Assert.Contains(await Store.ListVirtualHostsAsync(), v => v.Name == "/");
        var guest = await Store.GetUserAsync("guest");
        Assert.NotNull(guest);
        Assert.Contains("administrator", guest.Tags);
        var permission = await Store.GetPermissionAsync("guest", "/");
        Assert.Equal(new PermissionRecord("guest", "/", ".*", ".*", ".*"), permission);
    }

    [Fact]
    public async Task Vhost_put_get_list_delete()
    {
        await Store.PutVirtualHostAsync(new VirtualHostRecord("orders", "the orders team", ["prod", "eu"]));
        var vhost = await Store.GetVirtualHostAsync("orders");
        Assert.NotNull(vhost);
        Assert.Equal("the orders team", vhost.Description);
        Assert.Equal(["prod", "eu"], vhost.Tags);
        Assert.Contains(await Store.ListVirtualHostsAsync(), v => v.Name == "orders");

        // A new vhost has RabbitMQ's built-in exchanges.
        var direct = await Store.GetExchangeAsync("orders", "amq.direct");
        Assert.NotNull(direct);
        Assert.Equal("direct", direct.Type);

        await Store.PutVirtualHostAsync(new VirtualHostRecord("orders", "renamed team"));
        Assert.Equal("renamed team", (await Store.GetVirtualHostAsync("orders"))!.Description);

        await Store.DeleteVirtualHostAsync("orders");
        Assert.Null(await Store.GetVirtualHostAsync("orders"));
        Assert.Null(await Store.GetExchangeAsync("orders", "amq.direct"));
        await RefusedAsync(404, s => s.DeleteVirtualHostAsync("orders"));
    }

    [Fact]
    public async Task User_put_get_delete_keeps_the_hash_format()
    {
        var hash = RabbitPasswordHashing.Hash("s3cret");
        await Store.PutUserAsync(new UserRecord("alice", hash, RabbitPasswordHashing.Sha256, ["monitoring"]));

        var user = await Store.GetUserAsync("alice");
        Assert.NotNull(user);
        Assert.Equal(["monitoring"], user.Tags);
        Assert.Equal(RabbitPasswordHashing.Sha256, user.HashingAlgorithm);
        Assert.Contains(await Store.ListUsersAsync(), u => u.Name == "alice");

        // The hash itself: kept by the store, never shown by the users API (the snapshot has it).
        Assert.Equal(hash, (await Embedded.GetUserAsync("alice"))!.PasswordHash);
        Assert.Equal(Remote ? "" : hash, user.PasswordHash);
        Assert.Equal(hash, (await Store.GetSnapshotAsync()).Users.Single(u => u.Name == "alice").PasswordHash);

        await Store.DeleteUserAsync("alice");
        Assert.Null(await Store.GetUserAsync("alice"));
    }

    [Fact]
    public async Task User_with_an_unsupported_algorithm_is_refused()
    {
        if (Remote)
        {
            // The API refuses it before the store sees it (400 without a reply code).
            await Assert.ThrowsAsync<HttpRequestException>(() => Store.PutUserAsync(new UserRecord("bob", "AAAAAAAA", "rot13", [])));
        }
        else
        {
            await RefusedAsync(406, s => s.PutUserAsync(new UserRecord("bob", "AAAAAAAA", "rot13", [])));
        }

        Assert.Null(await Store.GetUserAsync("bob"));
    }

    [Fact]
    public async Task Permissions_set_get_list_clear()
    {
        await Store.PutUserAsync(new UserRecord("carol", RabbitPasswordHashing.Hash("x"), RabbitPasswordHashing.Sha256, []));
        await Store.SetPermissionAsync(new PermissionRecord("carol", "/", "^carol\\.", ".*", ""));
        Assert.Equal(new PermissionRecord("carol", "/", "^carol\\.", ".*", ""), await Store.GetPermissionAsync("carol", "/"));
        Assert.Contains(await Store.ListPermissionsAsync(), p => p.User == "carol");

        await Store.ClearPermissionAsync("carol", "/");
        Assert.Null(await Store.GetPermissionAsync("carol", "/"));

        await RefusedAsync(404, s => s.SetPermissionAsync(new PermissionRecord("nobody", "/", ".*", ".*", ".*")));
        await RefusedAsync(404, s => s.SetPermissionAsync(new PermissionRecord("carol", "no-such-vhost", ".*", ".*", ".*")));
    }

    // ---- exchanges

    [Fact]
    public async Task Exchange_declare_redeclare_passive_get_delete()
    {
        var exchange = new ExchangeRecord("/", "orders.x", "topic", true, false, false, new JsonObject { ["alternate-exchange"] = "ae" });
        var stored = await Store.DeclareExchangeAsync(exchange, passive: false);
        Assert.Equal("topic", stored.Type);
        Assert.Equal("ae", stored.Arguments["alternate-exchange"]!.GetValue<string>());

        Assert.Equal(stored, await Store.DeclareExchangeAsync(exchange, passive: false), RecordComparer.Instance);
        Assert.Equal(stored, await Store.DeclareExchangeAsync(exchange with { Type = "fanout" }, passive: true), RecordComparer.Instance);
        Assert.Equal(stored, await Store.GetExchangeAsync("/", "orders.x"), RecordComparer.Instance);

        await Store.DeleteExchangeAsync("/", "orders.x", ifUnused: false);
        Assert.Null(await Store.GetExchangeAsync("/", "orders.x"));
        await Store.DeleteExchangeAsync("/", "orders.x", ifUnused: false); // missing: fine, as RabbitMQ
    }

    [Fact]
    public async Task Exchange_refusals_carry_RabbitMQs_codes_and_texts()
    {
        await Store.DeclareExchangeAsync(new ExchangeRecord("/", "x1", "direct", true, false, false, []), false);

        var inequivalent = await RefusedAsync(
            406, s => s.DeclareExchangeAsync(new ExchangeRecord("/", "x1", "fanout", true, false, false, []), false));
        Assert.Contains("inequivalent arg 'type'", inequivalent.Message, StringComparison.Ordinal);
        await RefusedAsync(406, s => s.DeclareExchangeAsync(new ExchangeRecord("/", "x1", "direct", false, false, false, []), false));
        await RefusedAsync(404, s => s.DeclareExchangeAsync(new ExchangeRecord("/", "missing", "direct", true, false, false, []), true));
        await RefusedAsync(403, s => s.DeclareExchangeAsync(new ExchangeRecord("/", "amq.mine", "direct", true, false, false, []), false));
        await RefusedAsync(403, s => s.DeleteExchangeAsync("/", "amq.direct", false));
        await RefusedAsync(503, s => s.DeclareExchangeAsync(new ExchangeRecord("/", "x2", "no-such-type", true, false, false, []), false));
        await RefusedAsync(404, s => s.DeclareExchangeAsync(new ExchangeRecord("no-such-vhost", "x3", "direct", true, false, false, []), false));
    }

    [Fact]
    public async Task Exchange_delete_if_unused_refuses_while_bound()
    {
        await Store.DeclareExchangeAsync(new ExchangeRecord("/", "src", "direct", true, false, false, []), false);
        await Store.DeclareQueueAsync(new QueueRecord("/", "dst", true, false, []), false);
        var binding = new BindingRecord("/", "src", "dst", BindingDestinationType.Queue, "rk", []);
        await Store.BindAsync(binding);

        await RefusedAsync(406, s => s.DeleteExchangeAsync("/", "src", ifUnused: true));
        await Store.UnbindAsync(binding);
        await Store.DeleteExchangeAsync("/", "src", ifUnused: true);
        Assert.Null(await Store.GetExchangeAsync("/", "src"));
    }

    // ---- queues

    [Fact]
    public async Task Queue_declare_assigns_a_topic_that_is_never_reused()
    {
        var queue = new QueueRecord("/", "orders", true, false, new JsonObject { ["x-max-length"] = 10 });
        var first = await Store.DeclareQueueAsync(queue, passive: false);
        Assert.False(string.IsNullOrEmpty(first.Topic));
        Assert.Equal(first.Topic, (await Store.DeclareQueueAsync(queue, passive: false)).Topic);
        Assert.Equal(first.Topic, (await Store.DeclareQueueAsync(queue, passive: true)).Topic);
        Assert.Equal(first, await Store.GetQueueAsync("/", "orders"), RecordComparer.Instance);

        var deleted = await Store.DeleteQueueAsync("/", "orders");
        Assert.NotNull(deleted);
        Assert.Equal(first.Topic, deleted.Topic);
        Assert.Null(await Store.GetQueueAsync("/", "orders"));
        Assert.Null(await Store.DeleteQueueAsync("/", "orders"));

        var again = await Store.DeclareQueueAsync(queue, passive: false);
        Assert.NotEqual(first.Topic, again.Topic);
    }

    [Fact]
    public async Task Queue_refusals_carry_RabbitMQs_codes_and_texts()
    {
        await Store.DeclareQueueAsync(new QueueRecord("/", "q1", true, false, []), false);
        var inequivalent = await RefusedAsync(406, s => s.DeclareQueueAsync(new QueueRecord("/", "q1", false, false, []), false));
        Assert.Contains("inequivalent arg 'durable' for queue 'q1' in vhost '/'", inequivalent.Message, StringComparison.Ordinal);
        await RefusedAsync(406, s => s.DeclareQueueAsync(new QueueRecord("/", "q1", true, false, new JsonObject { ["x-max-length"] = 5 }), false));
        await RefusedAsync(404, s => s.DeclareQueueAsync(new QueueRecord("/", "missing", true, false, []), true));
        await RefusedAsync(403, s => s.DeclareQueueAsync(new QueueRecord("/", "amq.mine", true, false, []), false));

        await Store.DeclareQueueAsync(new QueueRecord("/", "mine", false, false, [], ExclusiveOwner: "conn-1"), false);
        await RefusedAsync(405, s => s.DeclareQueueAsync(new QueueRecord("/", "mine", false, false, [], ExclusiveOwner: "conn-2"), false));
        await RefusedAsync(405, s => s.DeclareQueueAsync(new QueueRecord("/", "mine", false, false, [], ExclusiveOwner: "conn-2"), true));
    }

    [Fact]
    public async Task Server_named_queue()
    {
        var queue = await Store.DeclareQueueAsync(new QueueRecord("/", "", false, true, [], ExclusiveOwner: "conn-1"), false);
        Assert.StartsWith("amq.gen-", queue.Name, StringComparison.Ordinal);
        Assert.Equal(queue, await Store.GetQueueAsync("/", queue.Name), RecordComparer.Instance);
    }

    // ---- bindings

    [Fact]
    public async Task Bind_unbind_are_idempotent_and_deleting_a_queue_drops_its_bindings()
    {
        await Store.DeclareExchangeAsync(new ExchangeRecord("/", "events", "topic", true, false, false, []), false);
        await Store.DeclareExchangeAsync(new ExchangeRecord("/", "audit", "fanout", true, false, false, []), false);
        await Store.DeclareQueueAsync(new QueueRecord("/", "billing", true, false, []), false);
        var toQueue = new BindingRecord("/", "events", "billing", BindingDestinationType.Queue, "order.*", new JsonObject { ["x-match"] = "all" });
        var toExchange = new BindingRecord("/", "events", "audit", BindingDestinationType.Exchange, "#", []);

        await Store.BindAsync(toQueue);
        await Store.BindAsync(toQueue);
        await Store.BindAsync(toExchange);
        var bindings = (await Store.GetSnapshotAsync()).Bindings.Where(b => b.Source == "events").ToList();
        Assert.Equal(2, bindings.Count);
        Assert.Contains(bindings, b => b.DestinationType == BindingDestinationType.Exchange && b.Destination == "audit");

        await Store.UnbindAsync(toExchange);
        await Store.UnbindAsync(toExchange);
        Assert.Single((await Store.GetSnapshotAsync()).Bindings, b => b.Source == "events");

        await Store.DeleteQueueAsync("/", "billing");
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Bindings, b => b.Source == "events");

        await RefusedAsync(404, s => s.BindAsync(toQueue with { Source = "no-such-exchange" }));
        await RefusedAsync(404, s => s.BindAsync(toQueue));
    }

    // ---- policies, snapshot, change feed

    [Fact]
    public async Task Policies_put_and_delete()
    {
        var policy = new PolicyRecord("/", "ttl", "^orders\\.", "queues", 5, new JsonObject { ["message-ttl"] = 60000 });
        await Store.PutPolicyAsync(policy);
        var stored = Assert.Single((await Store.GetSnapshotAsync()).Policies, p => p.Name == "ttl");
        Assert.Equal(policy, stored, RecordComparer.Instance);

        await Store.DeletePolicyAsync("/", "ttl");
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Policies, p => p.Name == "ttl");
        await RefusedAsync(404, s => s.PutPolicyAsync(policy with { VirtualHost = "no-such-vhost" }));
    }

    [Fact]
    public async Task Change_feed_follows_the_snapshot_revision_in_order()
    {
        var before = await Store.GetSnapshotAsync();
        await Store.DeclareQueueAsync(new QueueRecord("/", "feed-1", true, false, []), false);
        await Store.DeclareQueueAsync(new QueueRecord("/", "feed-2", true, false, []), false);
        await Store.DeleteQueueAsync("/", "feed-1");

        var batch = await Store.GetChangesAsync(before.Revision, TimeSpan.Zero);
        Assert.Equal(3, batch.Changes.Count);
        Assert.Equal(Enumerable.Range(1, 3).Select(i => before.Revision + i), batch.Changes.Select(c => c.Revision));
        Assert.Equal(batch.Changes[^1].Revision, batch.Revision);
        Assert.Equal(
            [("queue", ChangeOperation.Upsert), ("queue", ChangeOperation.Upsert), ("queue", ChangeOperation.Delete)],
            batch.Changes.Select(c => (c.Entity, c.Operation)));
        Assert.Equal((await Store.GetSnapshotAsync()).Revision, batch.Revision);

        var started = DateTime.UtcNow;
        var empty = await Store.GetChangesAsync(batch.Revision, TimeSpan.FromMilliseconds(300));
        Assert.Empty(empty.Changes);
        Assert.Equal(batch.Revision, empty.Revision);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(250));
    }

    /// <summary>
    /// Expects <paramref name="operation"/> to be refused with <paramref name="replyCode"/>; on a remote run,
    /// also that the embedded store refuses it with the very same code and text.
    /// </summary>
    protected async Task<MetadataException> RefusedAsync(ushort replyCode, Func<IMetadataStore, Task> operation)
    {
        var refusal = await Assert.ThrowsAsync<MetadataException>(() => operation(Store));
        Assert.Equal(replyCode, refusal.ReplyCode);
        if (Remote)
        {
            var embedded = await Assert.ThrowsAsync<MetadataException>(() => operation(Embedded));
            Assert.Equal(embedded.ReplyCode, refusal.ReplyCode);
            Assert.Equal(embedded.Message, refusal.Message);
        }

        return refusal;
    }
}

public sealed class EmbeddedSqliteStoreSemanticsTests : StoreSemanticsTests
{
    protected override bool Remote => false;

    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

public sealed class RemoteSqliteStoreSemanticsTests : StoreSemanticsTests
{
    protected override bool Remote => true;

    protected override Task<TestDatabase> CreateDatabaseAsync() => Task.FromResult<TestDatabase>(new SqliteTestDatabase());
}

[Collection(PostgresCollection.Name)]
public sealed class EmbeddedPostgresStoreSemanticsTests(PostgresFixture postgres) : StoreSemanticsTests
{
    protected override bool Remote => false;

    protected override async Task<TestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync(postgres);
}

[Collection(PostgresCollection.Name)]
public sealed class RemotePostgresStoreSemanticsTests(PostgresFixture postgres) : StoreSemanticsTests
{
    protected override bool Remote => true;

    protected override async Task<TestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync(postgres);
}
