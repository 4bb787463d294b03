using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;
using MetaService.Definitions.Tests.Support;

namespace MetaService.Definitions.Tests;

public sealed class ImportTests
{
    [Fact]
    public async Task Importing_the_fixture_creates_every_entity_with_its_properties()
    {
        await using var test = await TestStore.CreateAsync();
        var store = test.Store;

        var result = await DefinitionsImporter.ImportAsync(store, DefinitionsFixture.Load());

        // vhosts, with the 3.10 metadata (the CLI's "production,eu-west" string becomes two tags)
        var vhosts = (await store.ListVirtualHostsAsync()).ToDictionary(v => v.Name);
        Assert.Equal("Order intake and fulfilment", vhosts["orders"].Description);
        Assert.Equal(["eu-west", "production"], vhosts["orders"].Tags!.Order());
        Assert.Equal("Invoices and payment events", vhosts["billing"].Description);
        Assert.Equal(["production"], vhosts["billing"].Tags);
        Assert.Contains("/", vhosts.Keys);

        // users keep their hashes, so their passwords keep working
        foreach (var (name, password) in DefinitionsFixture.Passwords)
        {
            var user = await store.GetUserAsync(name);
            Assert.NotNull(user);
            Assert.Equal(RabbitPasswordHashing.Sha256, user.HashingAlgorithm);
            Assert.True(RabbitPasswordHashing.Verify(password, user.PasswordHash, user.HashingAlgorithm), name);
            Assert.False(RabbitPasswordHashing.Verify(password + "!", user.PasswordHash, user.HashingAlgorithm), name);
        }

        Assert.Equal(["administrator"], (await store.GetUserAsync("admin-ops"))!.Tags);
        Assert.Empty((await store.GetUserAsync("app-user"))!.Tags);
        Assert.Equal(["management", "monitoring"], (await store.GetUserAsync("monitor-bot"))!.Tags.Order());

        // permissions
        Assert.Equal(
            new PermissionRecord("app-user", "billing", "", "^billing\\.events$", "^billing\\..*"),
            await store.GetPermissionAsync("app-user", "billing"));
        Assert.Equal(
            new PermissionRecord("app-user", "orders", "^orders\\..*", "^orders\\..*", "^orders\\..*"),
            await store.GetPermissionAsync("app-user", "orders"));
        Assert.Equal(new PermissionRecord("monitor-bot", "orders", "", "", ".*"), await store.GetPermissionAsync("monitor-bot", "orders"));
        Assert.Equal(new PermissionRecord("admin-ops", "billing", ".*", ".*", ".*"), await store.GetPermissionAsync("admin-ops", "billing"));
        Assert.Equal(new PermissionRecord("guest", "/", ".*", ".*", ".*"), await store.GetPermissionAsync("guest", "/"));
        Assert.Equal(6, (await store.ListPermissionsAsync()).Count);

        // exchanges
        var events = await store.GetExchangeAsync("orders", "orders.events");
        Assert.NotNull(events);
        Assert.Equal(("topic", true, false, false), (events.Type, events.Durable, events.AutoDelete, events.Internal));
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["alternate-exchange"] = "orders.unrouted" }, events.Arguments));
        Assert.Equal("headers", (await store.GetExchangeAsync("orders", "orders.by-header"))!.Type);
        Assert.Equal("fanout", (await store.GetExchangeAsync("orders", "orders.audit"))!.Type);
        Assert.Equal("direct", (await store.GetExchangeAsync("billing", "billing.events"))!.Type);
        var snapshot = await store.GetSnapshotAsync();
        Assert.Equal(
            ["billing.dlx", "billing.events", "orders.audit", "orders.by-header", "orders.dlx", "orders.events", "orders.unrouted"],
            snapshot.Exchanges.Where(e => !DefinitionsImporter.IsBuiltInExchange(e.Name)).Select(e => e.Name).Order(StringComparer.Ordinal));

        // queues, transient one included, with their arguments
        var created = await store.GetQueueAsync("orders", "orders.created");
        Assert.NotNull(created);
        Assert.True(created.Durable);
        Assert.False(created.AutoDelete);
        Assert.Null(created.ExclusiveOwner);
        Assert.False(string.IsNullOrEmpty(created.Topic));
        AssertJson("""{"x-dead-letter-exchange":"orders.dlx","x-dead-letter-routing-key":"orders.dead","x-message-ttl":60000}""", created.Arguments);
        AssertJson("""{"x-delivery-limit":5,"x-queue-type":"quorum"}""", (await store.GetQueueAsync("orders", "orders.payments"))!.Arguments);
        AssertJson("""{"x-max-length":10000,"x-overflow":"drop-head"}""", (await store.GetQueueAsync("orders", "orders.audit-log"))!.Arguments);
        AssertJson("""{"x-max-length":5000,"x-max-length-bytes":10485760}""", (await store.GetQueueAsync("billing", "billing.invoices"))!.Arguments);
        Assert.False((await store.GetQueueAsync("billing", "billing.cache-refresh"))!.Durable);
        Assert.Equal(10, snapshot.Queues.Count);
        Assert.Equal(10, snapshot.Queues.Select(q => q.Topic).Distinct().Count());

        // bindings: all but the two that name the internal exchange RabbitMQ left out of its export
        Assert.Equal(12, snapshot.Bindings.Count);
        Assert.Contains(snapshot.Bindings, b => b == new BindingRecord(
            "orders", "orders.events", "orders.audit", BindingDestinationType.Exchange, "#", b.Arguments) && b.Arguments.Count == 0);
        Assert.Contains(snapshot.Bindings, b => b.Source == "amq.direct" && b.Destination == "billing.cache-refresh"
            && b.RoutingKey == "cache.refresh" && b.VirtualHost == "billing");
        var headerBinding = snapshot.Bindings.Single(b => b.Destination == "orders.priority-eu");
        AssertJson("""{"priority":"high","region":"eu","x-match":"all"}""", headerBinding.Arguments);
        var anyBinding = snapshot.Bindings.Single(b => b.Source == "orders.by-header" && b.Destination == "orders.audit-log");
        AssertJson("""{"audit":true,"retries":3,"x-match":"any"}""", anyBinding.Arguments);
        Assert.Equal(2, snapshot.Bindings.Count(b => b.Source == "billing.events" && b.Destination == "billing.invoices"));
        Assert.DoesNotContain(snapshot.Bindings, b => b.Source == "orders.archive" || b.Destination == "orders.archive");

        // policies
        var policies = snapshot.Policies.ToDictionary(p => p.Name);
        Assert.Equal(3, policies.Count);
        Assert.Equal(("billing", "^billing\\.invoices$", "queues", 5), (policies["billing-dead-letter"].VirtualHost,
            policies["billing-dead-letter"].Pattern, policies["billing-dead-letter"].ApplyTo, policies["billing-dead-letter"].Priority));
        AssertJson("""{"dead-letter-exchange":"billing.dlx","message-ttl":86400000}""", policies["billing-dead-letter"].Definition);
        Assert.Equal(("exchanges", 0), (policies["orders-headers-ae"].ApplyTo, policies["orders-headers-ae"].Priority));
        AssertJson("""{"max-length":20000,"overflow":"reject-publish"}""", policies["orders-audit-cap"].Definition);

        // counts and warnings
        // A store may come with "/" and guest already: those count as unchanged or updated.
        Assert.Equal((3, 0), (result.VirtualHosts.Applied, result.VirtualHosts.Skipped));
        Assert.Equal((4, 0), (result.Users.Applied, result.Users.Skipped));
        Assert.Equal(new ImportCounts(6, 0, 0, 0), result.Permissions);
        Assert.Equal(new ImportCounts(7, 0, 0, 0), result.Exchanges);
        Assert.Equal(new ImportCounts(10, 0, 0, 0), result.Queues);
        Assert.Equal(new ImportCounts(12, 0, 0, 2), result.Bindings);
        Assert.Equal(new ImportCounts(3, 0, 0, 0), result.Policies);
        Assert.Equal((1, 2, 1), (result.TopicPermissionsNotImported, result.ParametersNotImported, result.GlobalParametersNotImported));
        Assert.Equal(2, result.Warnings.Count(w => w.Contains("'orders.archive'", StringComparison.Ordinal) && w.Contains("skipped", StringComparison.Ordinal)));
        Assert.Contains(result.Warnings, w => w.StartsWith("1 topic permission not imported", StringComparison.Ordinal) && w.Contains("app-user", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("2 runtime parameters not imported", StringComparison.Ordinal)
            && w.Contains("operator_policy 'billing-size-cap'", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("1 global parameter not imported ('cluster_name')", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("user 'app-user': limits", StringComparison.Ordinal));
        Assert.Equal(6, result.Warnings.Count);
    }

    [Fact]
    public async Task Importing_twice_changes_nothing_the_second_time()
    {
        await using var test = await TestStore.CreateAsync();
        var definitions = DefinitionsFixture.Load();
        await DefinitionsImporter.ImportAsync(test.Store, definitions);
        var revision = await test.RevisionAsync();
        var before = (await DefinitionsExporter.ExportAsync(test.Store)).ToJson();
        var topics = (await test.Store.GetSnapshotAsync()).Queues.ToDictionary(q => (q.VirtualHost, q.Name), q => q.Topic);

        var again = await DefinitionsImporter.ImportAsync(test.Store, DefinitionsFixture.Load());

        Assert.Equal(0, again.Written);
        Assert.Equal(revision, await test.RevisionAsync());
        Assert.Empty((await test.Store.GetChangesAsync(revision, TimeSpan.Zero)).Changes);
        Assert.Equal(before, (await DefinitionsExporter.ExportAsync(test.Store)).ToJson());
        Assert.Equal(topics, (await test.Store.GetSnapshotAsync()).Queues.ToDictionary(q => (q.VirtualHost, q.Name), q => q.Topic));
        Assert.Equal(new ImportCounts(0, 0, 10, 0), again.Queues);
        Assert.Equal(new ImportCounts(0, 0, 7, 0), again.Exchanges);
        Assert.Equal(new ImportCounts(0, 0, 12, 2), again.Bindings);
        Assert.Equal(new ImportCounts(0, 0, 4, 0), again.Users);
        Assert.Equal(new ImportCounts(0, 0, 6, 0), again.Permissions);
        Assert.Equal(new ImportCounts(0, 0, 3, 0), again.Policies);
        Assert.Equal(new ImportCounts(0, 0, 3, 0), again.VirtualHosts);
    }

    [Fact]
    public async Task A_changed_document_updates_users_permissions_policies_and_vhost_metadata()
    {
        await using var test = await TestStore.CreateAsync();
        await DefinitionsImporter.ImportAsync(test.Store, DefinitionsFixture.Load());
        var changed = DefinitionsFixture.Load();
        var newHash = RabbitPasswordHashing.Hash("n3w-pass", RabbitPasswordHashing.Sha512);
        Replace(changed.Users, u => u.Name == "app-user", u => u with
        {
            PasswordHash = newHash, HashingAlgorithm = RabbitPasswordHashing.Sha512, Tags = ["impersonator"],
        });
        Replace(changed.Permissions, p => p.User == "monitor-bot", p => p with { Read = "^orders\\.audit" });
        Replace(changed.Policies, p => p.Name == "orders-audit-cap", p => p with { Priority = 9, Definition = new JsonObject { ["max-length"] = 1 } });
        Replace(changed.VirtualHosts, v => v.Name == "billing", v => v with { Metadata = new() { Description = "Invoices", Tags = ["eu"] } });

        var result = await DefinitionsImporter.ImportAsync(test.Store, changed);

        Assert.Equal(new ImportCounts(0, 1, 3, 0), result.Users);
        Assert.Equal(new ImportCounts(0, 1, 5, 0), result.Permissions);
        Assert.Equal(new ImportCounts(0, 1, 2, 0), result.Policies);
        Assert.Equal(new ImportCounts(0, 1, 2, 0), result.VirtualHosts);
        Assert.Equal(3, result.Written - result.VirtualHosts.Written);
        var user = await test.Store.GetUserAsync("app-user");
        Assert.True(RabbitPasswordHashing.Verify("n3w-pass", user!.PasswordHash, user.HashingAlgorithm));
        Assert.Equal(["impersonator"], user.Tags);
        Assert.Equal("^orders\\.audit", (await test.Store.GetPermissionAsync("monitor-bot", "orders"))!.Read);
        var policy = (await test.Store.GetSnapshotAsync()).Policies.Single(p => p.Name == "orders-audit-cap");
        Assert.Equal(9, policy.Priority);
        AssertJson("""{"max-length":1}""", policy.Definition);
        Assert.Equal(new VirtualHostRecord("billing", "Invoices", ["eu"]), await test.Store.GetVirtualHostAsync("billing"), VirtualHostComparer.Instance);
    }

    [Fact]
    public async Task A_document_without_vhost_metadata_keeps_the_stored_description_and_tags()
    {
        await using var test = await TestStore.CreateAsync();
        await test.Store.PutVirtualHostAsync(new VirtualHostRecord("legacy", "kept", ["t1"]));

        var result = await DefinitionsImporter.ImportAsync(test.Store, RabbitMqDefinitions.Parse("""{"vhosts": [{"name": "legacy"}]}"""));

        Assert.Equal(new ImportCounts(0, 0, 1, 0), result.VirtualHosts);
        Assert.Equal(new VirtualHostRecord("legacy", "kept", ["t1"]), await test.Store.GetVirtualHostAsync("legacy"), VirtualHostComparer.Instance);
    }

    [Fact]
    public async Task An_inequivalent_existing_queue_fails_the_import_with_406_naming_it()
    {
        await using var test = await TestStore.CreateAsync();
        await test.Store.PutVirtualHostAsync(new VirtualHostRecord("orders"));
        await test.Store.DeclareQueueAsync(new QueueRecord("orders", "orders.created", Durable: true, AutoDelete: false, []), passive: false);

        var error = await Assert.ThrowsAsync<MetadataException>(() => DefinitionsImporter.ImportAsync(test.Store, DefinitionsFixture.Load()));

        Assert.Equal(MetadataException.PreconditionFailed, error.ReplyCode);
        Assert.StartsWith("importing queue 'orders.created' in vhost 'orders': ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_document_fails_before_writing_anything()
    {
        await using var test = await TestStore.CreateAsync();
        var revision = await test.RevisionAsync();
        var definitions = RabbitMqDefinitions.Parse("""
            {
              "vhosts": [{"name": "v"}],
              "users": [{"name": "u", "password_hash": "x", "hashing_algorithm": "rabbit_password_hashing_bcrypt", "tags": ""}],
              "bindings": [{"source": "a", "vhost": "v", "destination": "b", "destination_type": "topic", "routing_key": "", "arguments": {}}]
            }
            """);

        var error = await Assert.ThrowsAsync<MetadataException>(() => DefinitionsImporter.ImportAsync(test.Store, definitions));

        Assert.Equal(MetadataException.PreconditionFailed, error.ReplyCode);
        Assert.Contains("unsupported hashing_algorithm 'rabbit_password_hashing_bcrypt'", error.Message, StringComparison.Ordinal);
        Assert.Contains("destination_type 'topic'", error.Message, StringComparison.Ordinal);
        Assert.Equal(revision, await test.RevisionAsync());
        Assert.Null(await test.Store.GetVirtualHostAsync("v"));
    }

    [Fact]
    public async Task Entries_naming_missing_vhosts_users_or_endpoints_are_skipped_with_warnings()
    {
        await using var test = await TestStore.CreateAsync();
        var definitions = RabbitMqDefinitions.Parse("""
            {
              "vhosts": [{"name": "v"}],
              "users": [{"name": "u", "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}],
              "permissions": [
                {"user": "u", "vhost": "nowhere", "configure": ".*", "write": ".*", "read": ".*"},
                {"user": "nobody", "vhost": "v", "configure": ".*", "write": ".*", "read": ".*"},
                {"user": "u", "vhost": "v", "configure": "", "write": "", "read": ".*"}
              ],
              "exchanges": [
                {"name": "amq.direct", "vhost": "v", "type": "direct", "durable": true, "auto_delete": false, "arguments": {}},
                {"name": "x", "vhost": "nowhere", "type": "fanout", "durable": true, "auto_delete": false, "arguments": {}}
              ],
              "queues": [
                {"name": "q", "vhost": "v", "durable": true, "auto_delete": false, "arguments": {}},
                {"name": "q", "vhost": "nowhere", "durable": true, "auto_delete": false, "arguments": {}}
              ],
              "bindings": [
                {"source": "", "vhost": "v", "destination": "q", "destination_type": "queue", "routing_key": "q", "arguments": {}},
                {"source": "amq.fanout", "vhost": "v", "destination": "q", "destination_type": "queue", "routing_key": "", "arguments": {}},
                {"source": "amq.fanout", "vhost": "v", "destination": "missing", "destination_type": "queue", "routing_key": "", "arguments": {}}
              ],
              "policies": [{"vhost": "nowhere", "name": "p", "pattern": ".*", "apply-to": "queues", "priority": 0, "definition": {"max-length": 1}}]
            }
            """);

        var result = await DefinitionsImporter.ImportAsync(test.Store, definitions);

        Assert.Equal(new ImportCounts(1, 0, 0, 2), result.Permissions);
        Assert.Equal(new ImportCounts(0, 0, 0, 2), result.Exchanges);
        Assert.Equal(new ImportCounts(1, 0, 0, 1), result.Queues);
        Assert.Equal(new ImportCounts(1, 0, 0, 2), result.Bindings);
        Assert.Equal(new ImportCounts(0, 0, 0, 1), result.Policies);
        Assert.Equal(6, result.Warnings.Count);
        Assert.All(result.Warnings, w => Assert.Contains(" skipped: ", w, StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("binding of queue 'missing' to exchange 'amq.fanout'", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.StartsWith("permissions of user 'nobody' in vhost 'v' skipped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_queue_type_given_only_as_the_type_field_becomes_x_queue_type()
    {
        await using var test = await TestStore.CreateAsync();
        var definitions = RabbitMqDefinitions.Parse("""
            {
              "vhosts": [{"name": "v"}],
              "queues": [
                {"name": "qq", "vhost": "v", "durable": true, "auto_delete": false, "arguments": {}, "type": "quorum"},
                {"name": "cq", "vhost": "v", "durable": true, "auto_delete": false, "arguments": {}, "type": "classic"}
              ]
            }
            """);

        await DefinitionsImporter.ImportAsync(test.Store, definitions);

        AssertJson("""{"x-queue-type":"quorum"}""", (await test.Store.GetQueueAsync("v", "qq"))!.Arguments);
        Assert.False((await test.Store.GetQueueAsync("v", "cq"))!.Arguments.ContainsKey("x-queue-type"));
    }

    internal static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");

    private static void Replace<T>(IList<T> list, Func<T, bool> match, Func<T, T> change)
    {
        var index = list.IndexOf(list.Single(match));
        list[index] = change(list[index]);
    }
}
