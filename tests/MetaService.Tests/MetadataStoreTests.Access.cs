using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace MetaService.Tests;

// Virtual hosts, users, permissions, policies, first-boot defaults.
public abstract partial class MetadataStoreTests
{
    [Fact]
    public async Task A_new_vhost_gets_RabbitMQs_built_in_exchanges()
    {
        var vhost = Unique("v");
        await Store.PutVirtualHostAsync(new VirtualHostRecord(vhost, "test vhost", ["a", "b"]));

        var stored = await Store.GetVirtualHostAsync(vhost);
        Assert.NotNull(stored);
        Assert.Equal("test vhost", stored.Description);
        Assert.Equal(["a", "b"], stored.Tags);
        Assert.Contains(await Store.ListVirtualHostsAsync(), v => v.Name == vhost);

        var expected = new (string Name, string Type, bool Internal)[]
        {
            ("amq.direct", "direct", false),
            ("amq.fanout", "fanout", false),
            ("amq.topic", "topic", false),
            ("amq.headers", "headers", false),
            ("amq.match", "headers", false),
            ("amq.rabbitmq.trace", "topic", true),
        };
        foreach (var (name, type, isInternal) in expected)
        {
            var exchange = await Store.GetExchangeAsync(vhost, name);
            Assert.NotNull(exchange);
            Assert.Equal(type, exchange.Type);
            Assert.Equal(isInternal, exchange.Internal);
            Assert.True(exchange.Durable);
            Assert.False(exchange.AutoDelete);
        }

        var snapshot = await Store.GetSnapshotAsync();
        Assert.Equal(6, snapshot.Exchanges.Count(e => e.VirtualHost == vhost));
    }

    [Fact]
    public async Task A_vhost_can_be_updated_and_deleted()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.PutVirtualHostAsync(new VirtualHostRecord(vhost, "described", ["tagged"]));
        var stored = await Store.GetVirtualHostAsync(vhost);
        Assert.Equal("described", stored!.Description);
        Assert.Equal(["tagged"], stored.Tags);

        await Store.DeleteVirtualHostAsync(vhost);
        Assert.Null(await Store.GetVirtualHostAsync(vhost));
        Assert.Null(await Store.GetExchangeAsync(vhost, "amq.direct"));
        await Refused(404, $"no vhost '{vhost}'", () => Store.DeleteVirtualHostAsync(vhost));
    }

    [Fact]
    public async Task Deleting_a_vhost_deletes_everything_in_it_and_logs_each_deletion()
    {
        var vhost = await NewVirtualHostAsync();
        var other = await NewVirtualHostAsync();
        var user = Unique("u");
        await Store.PutUserAsync(new UserRecord(user, RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));
        foreach (var v in new[] { vhost, other })
        {
            await Store.SetPermissionAsync(new PermissionRecord(user, v, ".*", ".*", ".*"));
            await Store.DeclareExchangeAsync(Exchange(v, "x"), passive: false);
            await Store.DeclareQueueAsync(Queue(v, "q"), passive: false);
            await Store.BindAsync(QueueBinding(v, "x", "q", "k"));
            await Store.PutPolicyAsync(new PolicyRecord(v, "p", "^q$", "queues", 1, Args(("max-length", 10))));
        }

        var before = await CurrentRevisionAsync();
        await Store.DeleteVirtualHostAsync(vhost);

        Assert.Null(await Store.GetVirtualHostAsync(vhost));
        Assert.Null(await Store.GetQueueAsync(vhost, "q"));
        Assert.Null(await Store.GetExchangeAsync(vhost, "x"));
        Assert.Null(await Store.GetPermissionAsync(user, vhost));
        var snapshot = await Store.GetSnapshotAsync();
        Assert.DoesNotContain(snapshot.Bindings, b => b.VirtualHost == vhost);
        Assert.DoesNotContain(snapshot.Policies, p => p.VirtualHost == vhost);
        Assert.DoesNotContain(snapshot.Exchanges, e => e.VirtualHost == vhost);

        // The other vhost and the user are untouched.
        Assert.NotNull(await Store.GetQueueAsync(other, "q"));
        Assert.NotNull(await Store.GetPermissionAsync(user, other));
        Assert.Single(snapshot.Bindings, b => b.VirtualHost == other);
        Assert.NotNull(await Store.GetUserAsync(user));

        var changes = await ChangesAfterAsync(before);
        Assert.All(changes, c => Assert.Equal(ChangeOperation.Delete, c.Operation));
        Assert.Equal(
            ["binding", "queue", "exchange", "exchange", "exchange", "exchange", "exchange", "exchange", "exchange", "policy", "permission", "vhost"],
            changes.Select(c => c.Entity));
        Assert.Equal(vhost, changes[^1].Value["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Users_are_stored_with_their_hash_and_deleted_with_their_permissions()
    {
        var vhost = await NewVirtualHostAsync();
        var name = Unique("user");
        var hash = RabbitPasswordHashing.Hash("s3cret");
        var before = await CurrentRevisionAsync();
        await Store.PutUserAsync(new UserRecord(name, hash, RabbitPasswordHashing.Sha256, ["monitoring"]));

        var user = await Store.GetUserAsync(name);
        Assert.NotNull(user);
        Assert.Equal(hash, user.PasswordHash);
        Assert.True(RabbitPasswordHashing.Verify("s3cret", user.PasswordHash, user.HashingAlgorithm));
        Assert.Equal(["monitoring"], user.Tags);
        Assert.Contains(await Store.ListUsersAsync(), u => u.Name == name);

        // The change carries the hash, never a password.
        var change = Assert.Single(await ChangesAfterAsync(before));
        Assert.Equal("user", change.Entity);
        Assert.Equal(hash, change.Value["passwordHash"]!.GetValue<string>());
        Assert.DoesNotContain("s3cret", change.Value.ToJsonString(), StringComparison.Ordinal);
        Assert.False(change.Value.ContainsKey("password"));

        await Store.PutUserAsync(new UserRecord(name, hash, RabbitPasswordHashing.Sha256, ["administrator"]));
        Assert.Equal(["administrator"], (await Store.GetUserAsync(name))!.Tags);

        await Store.SetPermissionAsync(new PermissionRecord(name, vhost, "^c", "^w", "^r"));
        await Store.DeleteUserAsync(name);
        Assert.Null(await Store.GetUserAsync(name));
        Assert.Null(await Store.GetPermissionAsync(name, vhost));
        await Refused(404, $"no user '{name}'", () => Store.DeleteUserAsync(name));
        await Refused(406, "unsupported password hashing algorithm 'plain'", () => Store.PutUserAsync(new UserRecord(name, "x", "plain", [])));
    }

    [Fact]
    public async Task Permissions_need_an_existing_user_and_vhost()
    {
        var vhost = await NewVirtualHostAsync();
        var user = Unique("user");
        await Refused(404, $"no user '{user}'", () => Store.SetPermissionAsync(new PermissionRecord(user, vhost, ".*", ".*", ".*")));
        await Store.PutUserAsync(new UserRecord(user, RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));
        await Refused(404, "no vhost 'nowhere'", () => Store.SetPermissionAsync(new PermissionRecord(user, "nowhere", ".*", ".*", ".*")));
        await Refused(406, "invalid regular expression '(' for write", () => Store.SetPermissionAsync(new PermissionRecord(user, vhost, ".*", "(", ".*")));

        await Store.SetPermissionAsync(new PermissionRecord(user, vhost, "^c", "^w", "^r"));
        Assert.Equal(new PermissionRecord(user, vhost, "^c", "^w", "^r"), await Store.GetPermissionAsync(user, vhost));
        await Store.SetPermissionAsync(new PermissionRecord(user, vhost, ".*", ".*", ".*"));
        Assert.Equal(new PermissionRecord(user, vhost, ".*", ".*", ".*"), await Store.GetPermissionAsync(user, vhost));
        Assert.Contains(await Store.ListPermissionsAsync(), p => p.User == user && p.VirtualHost == vhost);

        await Store.ClearPermissionAsync(user, vhost);
        Assert.Null(await Store.GetPermissionAsync(user, vhost));
        await Store.ClearPermissionAsync(user, vhost); // clearing nothing is fine
    }

    [Fact]
    public async Task Policies_are_created_updated_and_deleted()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.PutPolicyAsync(new PolicyRecord(vhost, "ttl", "^q\\.", "queues", 5, Args(("message-ttl", 1000), ("x-gateway-retry", new JsonArray(1, 5, 30)))));
        var policy = Assert.Single((await Store.GetSnapshotAsync()).Policies, p => p.VirtualHost == vhost);
        Assert.Equal("^q\\.", policy.Pattern);
        Assert.Equal(5, policy.Priority);
        Assert.Equal(1000, policy.Definition["message-ttl"]!.GetValue<int>());
        Assert.Equal(3, policy.Definition["x-gateway-retry"]!.AsArray().Count);

        await Store.PutPolicyAsync(new PolicyRecord(vhost, "ttl", ".*", "all", 7, Args(("max-length", 3))));
        policy = Assert.Single((await Store.GetSnapshotAsync()).Policies, p => p.VirtualHost == vhost);
        Assert.Equal(("all", 7), (policy.ApplyTo, policy.Priority));
        Assert.False(policy.Definition.ContainsKey("message-ttl"));

        await Refused(406, "invalid apply-to 'everything' for policy 'bad': expected one of all, exchanges, queues, classic_queues, quorum_queues, streams",
            () => Store.PutPolicyAsync(new PolicyRecord(vhost, "bad", ".*", "everything", 0, [])));
        await Refused(404, "no vhost 'nowhere'", () => Store.PutPolicyAsync(new PolicyRecord("nowhere", "p", ".*", "all", 0, [])));
        await Refused(406, "invalid definition for policy 'ladder': 'graded-redelivery-delays' has a step '5min' that is not a duration such as 500ms, 10s, 1m or 2h",
            () => Store.PutPolicyAsync(new PolicyRecord(vhost, "ladder", ".*", "queues", 0, Args(("graded-redelivery", true), ("graded-redelivery-delays", "10s 5min")))));

        await Store.DeletePolicyAsync(vhost, "ttl");
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Policies, p => p.VirtualHost == vhost);
        await Refused(404, $"no policy 'ttl' in vhost '{vhost}'", () => Store.DeletePolicyAsync(vhost, "ttl"));
    }

    [Fact]
    public async Task EnsureDefaults_creates_RabbitMQs_first_boot_vhost_and_guest_once()
    {
        var database = await NewDatabaseAsync();
        var store = await OpenStoreAsync(connectionString: database);

        Assert.True(await store.EnsureDefaultsAsync());
        var afterFirst = (await store.GetSnapshotAsync()).Revision;
        Assert.False(await store.EnsureDefaultsAsync());
        Assert.False(await (await OpenStoreAsync(connectionString: database)).EnsureDefaultsAsync());
        Assert.Equal(afterFirst, (await store.GetSnapshotAsync()).Revision);

        var vhost = Assert.Single(await store.ListVirtualHostsAsync());
        Assert.Equal("/", vhost.Name);
        Assert.NotNull(await store.GetExchangeAsync("/", "amq.topic"));
        var guest = await store.GetUserAsync("guest");
        Assert.NotNull(guest);
        Assert.Equal(RabbitPasswordHashing.Sha256, guest.HashingAlgorithm);
        Assert.True(RabbitPasswordHashing.Verify("guest", guest.PasswordHash, guest.HashingAlgorithm));
        Assert.Equal(["administrator"], guest.Tags);
        Assert.Equal(new PermissionRecord("guest", "/", ".*", ".*", ".*"), await store.GetPermissionAsync("guest", "/"));

        var changes = await ChangesAfterAsync(0, store);
        var userChange = changes.Single(c => c.Entity == "user").Value;
        Assert.Equal(guest.PasswordHash, userChange["passwordHash"]!.GetValue<string>());
        Assert.False(userChange.ContainsKey("password"));
    }

    [Fact]
    public async Task EnsureDefaults_run_by_two_instances_at_once_seeds_once()
    {
        var database = await NewDatabaseAsync();
        var first = await OpenStoreAsync(connectionString: database);
        var second = await OpenStoreAsync(connectionString: await AsAnotherProcessAsync(database));

        var results = await Task.WhenAll(Task.Run(() => first.EnsureDefaultsAsync()), Task.Run(() => second.EnsureDefaultsAsync()));

        Assert.Single(results, seeded => seeded);
        Assert.Single(await first.ListVirtualHostsAsync());
        Assert.Single(await first.ListUsersAsync());
    }
}
