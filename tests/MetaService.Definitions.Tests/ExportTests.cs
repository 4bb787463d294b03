using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;
using MetaService.Definitions.Tests.Support;

namespace MetaService.Definitions.Tests;

public sealed class ExportTests
{
    [Fact]
    public async Task Export_leaves_out_built_in_exchanges_default_bindings_and_exclusive_queues()
    {
        await using var test = await TestStore.CreateAsync();
        await DefinitionsImporter.ImportAsync(test.Store, DefinitionsFixture.Load());
        await test.Store.DeclareQueueAsync(
            new QueueRecord("orders", "reply.exclusive", Durable: false, AutoDelete: true, [], ExclusiveOwner: "conn-1"), passive: false);
        await test.Store.BindAsync(new BindingRecord("orders", "orders.events", "reply.exclusive", BindingDestinationType.Queue, "#", []));

        var exported = await DefinitionsExporter.ExportAsync(test.Store);

        Assert.DoesNotContain(exported.Exchanges, e => e.Name.Length == 0 || e.Name.StartsWith("amq.", StringComparison.Ordinal));
        Assert.Equal(7, exported.Exchanges.Count);
        Assert.DoesNotContain(exported.Queues, q => q.Name == "reply.exclusive");
        Assert.DoesNotContain(exported.Bindings, b => b.Destination == "reply.exclusive");
        Assert.DoesNotContain(exported.Bindings, b => b.Source.Length == 0);
        Assert.Equal(10, exported.Queues.Count);
        Assert.Equal(12, exported.Bindings.Count);
        Assert.Contains(exported.Bindings, b => b.Source == "amq.direct");
        Assert.Equal(DefinitionsExporter.FormatVersion, exported.RabbitVersion);
        Assert.Equal(DefinitionsExporter.ProductName, exported.ProductName);
    }

    [Fact]
    public async Task Exported_json_has_the_3_10_shape()
    {
        await using var test = await TestStore.CreateAsync();
        await DefinitionsImporter.ImportAsync(test.Store, DefinitionsFixture.Load());

        var json = JsonNode.Parse((await DefinitionsExporter.ExportAsync(test.Store)).ToJson())!.AsObject();

        var monitor = Entry(json, "users", "monitor-bot");
        Assert.Contains((string)monitor["tags"]!, new[] { "monitoring,management", "management,monitoring" });
        Assert.Equal(RabbitPasswordHashing.Sha256, (string)monitor["hashing_algorithm"]!);
        Assert.Equal("", (string)Entry(json, "users", "app-user")["tags"]!);
        var orders = Entry(json, "vhosts", "orders");
        Assert.Equal("Order intake and fulfilment", (string)orders["metadata"]!["description"]!);
        Assert.Equal(2, orders["metadata"]!["tags"]!.AsArray().Count);
        Assert.Equal("quorum", (string)Entry(json, "queues", "orders.payments")["type"]!);
        Assert.Equal("classic", (string)Entry(json, "queues", "orders.created")["type"]!);
        Assert.False((bool)Entry(json, "exchanges", "orders.events")["internal"]!);
        Assert.Equal("queues", (string)Entry(json, "policies", "billing-dead-letter")["apply-to"]!);
        foreach (var section in new[] { "topic_permissions", "parameters", "global_parameters" })
        {
            Assert.Empty(json[section]!.AsArray());
        }
    }

    [Fact]
    public async Task Export_then_import_into_an_empty_store_gives_the_same_metadata()
    {
        await using var first = await TestStore.CreateAsync();
        await DefinitionsImporter.ImportAsync(first.Store, DefinitionsFixture.Load());
        // Beyond the fixture: an internal exchange with bindings on both sides, which RabbitMQ's own export drops.
        await ExtraTopology.AddInternalArchiveAsync(first.Store);
        var exported = (await DefinitionsExporter.ExportAsync(first.Store)).ToJson();

        await using var second = await TestStore.CreateAsync();
        var result = await DefinitionsImporter.ImportAsync(second.Store, RabbitMqDefinitions.Parse(exported));

        Assert.Empty(result.Warnings);
        Assert.Equal(exported, (await DefinitionsExporter.ExportAsync(second.Store)).ToJson());
        var a = await first.Store.GetSnapshotAsync();
        var b = await second.Store.GetSnapshotAsync();
        Assert.Equal(Canonical(a), Canonical(b));
        Assert.True(b.Exchanges.Single(e => e.Name == "orders.archive").Internal);
        foreach (var (name, password) in DefinitionsFixture.Passwords)
        {
            var user = b.Users.Single(u => u.Name == name);
            Assert.True(RabbitPasswordHashing.Verify(password, user.PasswordHash, user.HashingAlgorithm), name);
        }

        // And the round trip is itself idempotent.
        var again = await DefinitionsImporter.ImportAsync(second.Store, RabbitMqDefinitions.Parse(exported));
        Assert.Equal(0, again.Written);
    }

    private static JsonObject Entry(JsonObject json, string section, string name) =>
        json[section]!.AsArray().Single(e => (string)e!["name"]! == name)!.AsObject();

    /// <summary>Every entity as sorted text, without what the store assigns (revision, topics).</summary>
    private static string[] Canonical(MetadataSnapshot s)
    {
        string[] lines =
        [
            .. s.VirtualHosts.Select(v => $"vhost {v.Name} {v.Description} {string.Join(',', (v.Tags ?? []).Order(StringComparer.Ordinal))}"),
            .. s.Users.Select(u => $"user {u.Name} {u.PasswordHash} {u.HashingAlgorithm} {string.Join(',', u.Tags.Order(StringComparer.Ordinal))}"),
            .. s.Permissions.Select(p => $"permission {p}"),
            .. s.Exchanges.Select(e => $"exchange {e with { Arguments = [] }} {e.Arguments.ToJsonString()}"),
            .. s.Queues.Select(q => $"queue {q.VirtualHost} {q.Name} {q.Durable} {q.AutoDelete} {q.ExclusiveOwner} {q.Arguments.ToJsonString()}"),
            .. s.Bindings.Select(b => $"binding {b with { Arguments = [] }} {b.Arguments.ToJsonString()}"),
            .. s.Policies.Select(p => $"policy {p with { Definition = [] }} {p.Definition.ToJsonString()}"),
        ];
        return [.. lines.Order(StringComparer.Ordinal)];
    }
}
