using System.Text.Json.Nodes;
using MetaService.Contracts.Definitions;
using MetaService.Definitions.Tests.Support;

namespace MetaService.Definitions.Tests;

/// <summary>
/// The exporter's JSON goes through a real RabbitMQ: <c>rabbitmqctl import_definitions</c> must accept it and
/// create what it says, and RabbitMQ's own export of the result must import back into the store unchanged.
/// Everything is renamed under a unique prefix (vhosts and users) so the shared node's other vhosts
/// and the guest user are never touched, and deleted afterwards.
/// </summary>
public sealed class RabbitMqAcceptanceTests(RabbitMqNode node) : IClassFixture<RabbitMqNode>
{
    [Fact]
    public async Task RabbitMQ_imports_the_exported_definitions_and_its_export_imports_back_the_same()
    {
        await using var source = await TestStore.CreateAsync();
        await DefinitionsImporter.ImportAsync(source.Store, DefinitionsFixture.Load());
        await ExtraTopology.AddInternalArchiveAsync(source.Store);
        var prefix = $"defs-accept-{Guid.NewGuid():N}"[..20] + "-";
        var exported = Prefixed.Scope(await DefinitionsExporter.ExportAsync(source.Store), prefix);
        var file = Path.Combine(Path.GetTempPath(), $"{prefix}definitions.json");
        await File.WriteAllTextAsync(file, exported.ToJson());
        if (!OperatingSystem.IsWindows())
        {
            // rabbitmqctl runs as the rabbitmq user.
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        try
        {
            await node.CtlOkAsync("import_definitions", file);

            await AssertRabbitMqHasAsync(exported);
            foreach (var (name, password) in DefinitionsFixture.Passwords.Where(p => p.Key != "guest"))
            {
                // The hashes went store → JSON → RabbitMQ: the passwords still work there.
                await node.CtlOkAsync("authenticate_user", prefix + name, password);
                Assert.NotEqual(0, (await node.CtlAsync("authenticate_user", prefix + name, password + "x")).ExitCode);
            }

            // RabbitMQ accepts the same file again (its import is idempotent too).
            await node.CtlOkAsync("import_definitions", file);

            // Full circle: RabbitMQ's export of what it imported, back into an empty store.
            var roundTripped = Prefixed.Unscope(RabbitMqDefinitions.Parse(await node.CtlOkAsync("export_definitions", "-")), prefix);
            await using var target = await TestStore.CreateAsync();
            var result = await DefinitionsImporter.ImportAsync(target.Store, roundTripped);
            var expected = Prefixed.Unscope(exported, prefix);
            var actual = await DefinitionsExporter.ExportAsync(target.Store);
            // RabbitMQ drops internal exchanges from its export (and so the store skips their two bindings).
            Assert.Equal(2, result.Bindings.Skipped);
            Assert.Equal(
                Comparable(expected, dropInternal: true),
                Comparable(actual, dropInternal: false));
        }
        finally
        {
            foreach (var vhost in exported.VirtualHosts)
            {
                await node.CtlAsync("delete_vhost", vhost.Name);
            }

            foreach (var user in exported.Users)
            {
                await node.CtlAsync("delete_user", user.Name);
            }

            File.Delete(file);
        }
    }

    private async Task AssertRabbitMqHasAsync(RabbitMqDefinitions expected)
    {
        var vhosts = (await node.ListAsync("list_vhosts", "name", "description", "tags")).ToDictionary(v => (string)v!["name"]!);
        var users = (await node.ListAsync("list_users")).ToDictionary(u => (string)u!["user"]!);
        foreach (var user in expected.Users)
        {
            Assert.True(users.ContainsKey(user.Name), $"RabbitMQ has no user {user.Name}");
            Assert.Equal(user.Tags.Order(), users[user.Name]!["tags"]!.AsArray().Select(t => (string)t!).Order());
        }

        foreach (var vhost in expected.VirtualHosts)
        {
            var v = vhost.Name;
            Assert.True(vhosts.ContainsKey(v), $"RabbitMQ has no vhost {v}");
            Assert.Equal(vhost.EffectiveDescription(), (string)vhosts[v]!["description"]!);
            Assert.Equal(vhost.EffectiveTags()!.Order(), vhosts[v]!["tags"]!.AsArray().Select(t => (string)t!).Order());

            var exchanges = (await node.ListAsync("list_exchanges", "-p", v, "name", "type", "durable", "auto_delete", "internal", "arguments"))
                .Where(e => !DefinitionsImporter.IsBuiltInExchange((string)e!["name"]!))
                .Select(e => $"{e!["name"]} {e["type"]} {e["durable"]} {e["auto_delete"]} {e["internal"]} {Sorted(RabbitMqNode.ArgumentTable(e["arguments"]))}");
            Assert.Equal(
                expected.Exchanges.Where(e => e.VirtualHost == v)
                    .Select(e => $"{e.Name} {e.Type} {Bool(e.Durable)} {Bool(e.AutoDelete)} {Bool(e.Internal)} {Sorted(e.Arguments)}")
                    .Order(StringComparer.Ordinal),
                exchanges.Order(StringComparer.Ordinal));

            var queues = (await node.ListAsync("list_queues", "-p", v, "name", "durable", "auto_delete", "arguments", "type"))
                .Select(q => $"{q!["name"]} {q["durable"]} {q["auto_delete"]} {q["type"]} {Sorted(RabbitMqNode.ArgumentTable(q["arguments"]))}");
            Assert.Equal(
                expected.Queues.Where(q => q.VirtualHost == v)
                    .Select(q => $"{q.Name} {Bool(q.Durable)} {Bool(q.AutoDelete)} {q.Type} {Sorted(q.Arguments)}")
                    .Order(StringComparer.Ordinal),
                queues.Order(StringComparer.Ordinal));

            var bindings = (await node.ListAsync(
                    "list_bindings", "-p", v, "source_name", "destination_name", "destination_kind", "routing_key", "arguments"))
                .Where(b => ((string)b!["source_name"]!).Length > 0)
                .Select(b => $"{b!["source_name"]} {b["destination_name"]} {b["destination_kind"]} '{b["routing_key"]}' "
                    + Sorted(RabbitMqNode.ArgumentTable(b["arguments"])));
            Assert.Equal(
                expected.Bindings.Where(b => b.VirtualHost == v)
                    .Select(b => $"{b.Source} {b.Destination} {b.DestinationType} '{b.RoutingKey}' {Sorted(b.Arguments)}")
                    .Order(StringComparer.Ordinal),
                bindings.Order(StringComparer.Ordinal));

            var policies = (await node.ListAsync("list_policies", "-p", v))
                .Select(p => $"{p!["name"]} {p["pattern"]} {p["apply-to"]} {p["priority"]} "
                    + Sorted(JsonNode.Parse((string)p["definition"]!)!.AsObject()));
            Assert.Equal(
                expected.Policies.Where(p => p.VirtualHost == v)
                    .Select(p => $"{p.Name} {p.Pattern} {p.ApplyTo} {p.Priority} {Sorted(p.Definition)}")
                    .Order(StringComparer.Ordinal),
                policies.Order(StringComparer.Ordinal));

            var permissions = (await node.ListAsync("list_permissions", "-p", v))
                .Select(p => $"{p!["user"]} '{p["configure"]}' '{p["write"]}' '{p["read"]}'");
            Assert.Equal(
                expected.Permissions.Where(p => p.VirtualHost == v)
                    .Select(p => $"{p.User} '{p.Configure}' '{p.Write}' '{p.Read}'")
                    .Order(StringComparer.Ordinal),
                permissions.Order(StringComparer.Ordinal));
        }
    }

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A JSON object with its keys sorted, as text: argument tables come back in RabbitMQ's order.</summary>
    private static string Sorted(JsonObject arguments) =>
        new JsonObject(arguments.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))).ToJsonString();

    /// <summary>
    /// The parts of a document that must survive store → RabbitMQ → store, as sorted lines; "/" and guest
    /// are left out (a store may come with its own).
    /// </summary>
    private static string[] Comparable(RabbitMqDefinitions d, bool dropInternal)
    {
        var internalExchanges = dropInternal
            ? d.Exchanges.Where(e => e.Internal).Select(e => (e.VirtualHost, e.Name)).ToHashSet()
            : [];
        string[] lines =
        [
            .. d.VirtualHosts.Where(v => v.Name != "/").Select(v => $"vhost {v.Name} {v.EffectiveDescription()} {string.Join(',', v.EffectiveTags()!.Order())}"),
            .. d.Users.Where(u => u.Name != "guest").Select(u => $"user {u.Name} {u.PasswordHash} {u.HashingAlgorithm} {string.Join(',', u.Tags.Order())}"),
            .. d.Permissions.Where(p => p.VirtualHost != "/" && p.User != "guest").Select(p => $"permission {p.User} {p.VirtualHost} '{p.Configure}' '{p.Write}' '{p.Read}'"),
            .. d.Exchanges.Where(e => !internalExchanges.Contains((e.VirtualHost, e.Name)))
                .Select(e => $"exchange {e.VirtualHost} {e.Name} {e.Type} {e.Durable} {e.AutoDelete} {e.Internal} {Sorted(e.Arguments)}"),
            .. d.Queues.Select(q => $"queue {q.VirtualHost} {q.Name} {q.Durable} {q.AutoDelete} {q.Type} {Sorted(q.Arguments)}"),
            .. d.Bindings
                .Where(b => !internalExchanges.Contains((b.VirtualHost, b.Source)) && !internalExchanges.Contains((b.VirtualHost, b.Destination)))
                .Select(b => $"binding {b.VirtualHost} {b.Source} {b.Destination} {b.DestinationType} '{b.RoutingKey}' {Sorted(b.Arguments)}"),
            .. d.Policies.Select(p => $"policy {p.VirtualHost} {p.Name} {p.Pattern} {p.ApplyTo} {p.Priority} {Sorted(p.Definition)}"),
        ];
        return [.. lines.Order(StringComparer.Ordinal)];
    }
}
