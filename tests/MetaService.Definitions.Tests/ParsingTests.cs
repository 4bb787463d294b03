using System.Text.Json;
using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;
using MetaService.Definitions.Tests.Support;

namespace MetaService.Definitions.Tests;

public sealed class ParsingTests
{
    [Fact]
    public void Fixture_parses_with_every_section()
    {
        var d = DefinitionsFixture.Load();

        Assert.Equal("3.10.8", d.RabbitVersion);
        Assert.Equal("3.10.8", d.RabbitMqVersion);
        Assert.Equal(["admin-ops", "app-user", "guest", "monitor-bot"], d.Users.Select(u => u.Name).Order());
        Assert.Equal(["/", "billing", "orders"], d.VirtualHosts.Select(v => v.Name).Order(StringComparer.Ordinal));
        Assert.Equal(6, d.Permissions.Count);
        Assert.Single(d.TopicPermissions);
        Assert.Equal(2, d.Parameters.Count);
        Assert.Single(d.GlobalParameters);
        Assert.Equal(3, d.Policies.Count);
        Assert.Equal(10, d.Queues.Count);
        Assert.Equal(7, d.Exchanges.Count);
        Assert.Equal(14, d.Bindings.Count);
    }

    [Fact]
    public void Fixture_users_carry_tags_algorithm_and_limits()
    {
        var users = DefinitionsFixture.Load().Users.ToDictionary(u => u.Name);

        Assert.Equal(["administrator"], users["admin-ops"].Tags);
        Assert.Empty(users["app-user"].Tags);
        Assert.Equal(["monitoring", "management"], users["monitor-bot"].Tags);
        Assert.All(users.Values, u => Assert.Equal(RabbitPasswordHashing.Sha256, u.HashingAlgorithm));
        Assert.Equal(50, (int)users["app-user"].Limits!["max-connections"]!);
    }

    [Theory]
    [InlineData("admin-ops")]
    [InlineData("app-user")]
    [InlineData("monitor-bot")]
    [InlineData("guest")]
    public void Fixture_password_hashes_verify_the_known_passwords_only(string name)
    {
        var user = DefinitionsFixture.Load().Users.Single(u => u.Name == name);
        var password = DefinitionsFixture.Passwords[name];

        Assert.True(RabbitPasswordHashing.Verify(password, user.PasswordHash, user.EffectiveHashingAlgorithm()));
        Assert.False(RabbitPasswordHashing.Verify(password + "x", user.PasswordHash, user.EffectiveHashingAlgorithm()));
        Assert.False(RabbitPasswordHashing.Verify(password.ToUpperInvariant() + "!", user.PasswordHash, user.EffectiveHashingAlgorithm()));
        Assert.False(RabbitPasswordHashing.Verify("", user.PasswordHash, user.EffectiveHashingAlgorithm()));
        Assert.False(RabbitPasswordHashing.Verify(password, user.PasswordHash, RabbitPasswordHashing.Sha512));
    }

    [Fact]
    public void Fixture_vhosts_read_3_10_metadata_with_both_tag_forms()
    {
        var vhosts = DefinitionsFixture.Load().VirtualHosts.ToDictionary(v => v.Name);

        // add_vhost --tags stores the string as given; 3.10 exports it so.
        Assert.Equal("Order intake and fulfilment", vhosts["orders"].EffectiveDescription());
        Assert.Equal(["production", "eu-west"], vhosts["orders"].EffectiveTags());
        Assert.Equal(["production"], vhosts["billing"].EffectiveTags());
        Assert.Equal("Default virtual host", vhosts["/"].EffectiveDescription());
        Assert.Empty(vhosts["/"].EffectiveTags()!);
        Assert.True(vhosts["billing"].HasLimits());
        Assert.False(vhosts["orders"].HasLimits());
    }

    [Fact]
    public void Fixture_topology_keeps_arguments_types_and_destinations()
    {
        var d = DefinitionsFixture.Load();

        var created = d.Queues.Single(q => q.Name == "orders.created");
        Assert.Equal(60000, (int)created.Arguments["x-message-ttl"]!);
        Assert.Equal("orders.dlx", (string)created.Arguments["x-dead-letter-exchange"]!);
        var payments = d.Queues.Single(q => q.Name == "orders.payments");
        Assert.Equal("quorum", payments.Type);
        Assert.Equal("quorum", (string)payments.Arguments["x-queue-type"]!);
        Assert.False(d.Queues.Single(q => q.Name == "billing.cache-refresh").Durable);

        var events = d.Exchanges.Single(e => e.Name == "orders.events");
        Assert.Equal("topic", events.Type);
        Assert.Equal("orders.unrouted", (string)events.Arguments["alternate-exchange"]!);
        Assert.False(events.Internal);

        var e2e = d.Bindings.Single(b => b.Source == "orders.events" && b.DestinationType == "exchange");
        Assert.Equal(("orders.audit", "#"), (e2e.Destination, e2e.RoutingKey));
        var headers = d.Bindings.Single(b => b.Destination == "orders.priority-eu");
        Assert.Equal("all", (string)headers.Arguments["x-match"]!);

        var policy = d.Policies.Single(p => p.Name == "billing-dead-letter");
        Assert.Equal(("queues", 5, "^billing\\.invoices$"), (policy.ApplyTo, policy.Priority, policy.Pattern));
        Assert.Equal(86400000, (long)policy.Definition["message-ttl"]!);

        Assert.Equal("app-user", d.TopicPermissions[0].User);
        Assert.Equal("amq.topic", d.TopicPermissions[0].Exchange);
        Assert.Contains(d.Parameters, p => p.Component == "operator_policy" && p.Name == "billing-size-cap");
        Assert.Equal("defs-fixture", (string)d.GlobalParameters.Single(p => p.Name == "cluster_name").Value!);
    }

    [Fact]
    public void Older_and_newer_forms_are_accepted()
    {
        const string json = """
            {
              "rabbit_version": "3.7.28",
              "users": [
                {"name": "old", "password_hash": "abc", "tags": "administrator, monitoring"},
                {"name": "new", "password_hash": "abc", "hashing_algorithm": "rabbit_password_hashing_sha512", "tags": ["management"]}
              ],
              "vhosts": [
                {"name": "a"},
                {"name": "b", "description": "top", "tags": ["x", "y"], "default_queue_type": "quorum",
                 "metadata": {"description": "top", "tags": ["x", "y"], "default_queue_type": "quorum"}},
                {"name": "c", "limits": {"max-queues": 10}}
              ],
              "policies": [{"vhost": "a", "name": "p", "pattern": ".*", "priority": "7", "definition": {"max-length": 1}}],
              "queues": [{"name": "q", "vhost": "a", "durable": true, "auto_delete": false, "arguments": {}}],
            }
            """;

        var d = RabbitMqDefinitions.Parse(json);

        Assert.Equal(["administrator", "monitoring"], d.Users[0].Tags);
        Assert.Equal(RabbitPasswordHashing.Md5, d.Users[0].EffectiveHashingAlgorithm());
        Assert.Equal(["management"], d.Users[1].Tags);
        Assert.Null(d.VirtualHosts[0].EffectiveDescription());
        Assert.Null(d.VirtualHosts[0].EffectiveTags());
        Assert.Equal("top", d.VirtualHosts[1].EffectiveDescription());
        Assert.Equal(["x", "y"], d.VirtualHosts[1].EffectiveTags());
        Assert.True(d.VirtualHosts[2].HasLimits());
        Assert.Equal(7, d.Policies[0].Priority);
        Assert.Empty(d.Exchanges);
        Assert.Empty(d.Bindings);
        Assert.Null(d.Queues[0].Type);
    }

    [Fact]
    public void Writing_uses_the_3_10_forms_and_keeps_unknown_fields()
    {
        var json = JsonNode.Parse(DefinitionsFixture.Text())!.AsObject();
        json["x-exporter-note"] = "kept";
        json["queues"]![0]!["x-extra"] = 42;
        var d = RabbitMqDefinitions.FromJsonNode(json);

        var written = JsonNode.Parse(d.ToJson())!.AsObject();

        Assert.Equal("kept", (string)written["x-exporter-note"]!);
        Assert.Equal(42, (int)written["queues"]![0]!["x-extra"]!);
        var monitor = written["users"]!.AsArray().Single(u => (string)u!["name"]! == "monitor-bot")!;
        Assert.Equal("monitoring,management", (string)monitor["tags"]!);
        Assert.Equal(50, (int)written["users"]!.AsArray().Single(u => (string)u!["name"]! == "app-user")!["limits"]!["max-connections"]!);
        var orders = written["vhosts"]!.AsArray().Single(v => (string)v!["name"]! == "orders")!;
        Assert.Equal(["production", "eu-west"], orders["metadata"]!["tags"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(2, written["vhosts"]!.AsArray().Single(v => (string)v!["name"]! == "billing")!["limits"]!.AsArray().Count);
        Assert.Equal(
            ["max-length-bytes", 104857600],
            written["parameters"]!.AsArray().Single(p => (string)p!["component"]! == "operator_policy")!["value"]!["definition"]![0]!
                .AsArray().Select(n => n!.GetValueKind() == JsonValueKind.String ? (object)(string)n! : (int)n!));

        // Stable: what it writes it reads back to the same text.
        Assert.Equal(d.ToJson(), RabbitMqDefinitions.Parse(d.ToJson()).ToJson());
        Assert.Equal(d.ToJson(indented: false), d.ToJsonObject().ToJsonString());
    }

    [Fact]
    public void Missing_sections_are_written_as_empty_arrays()
    {
        var written = JsonNode.Parse(RabbitMqDefinitions.Parse("{}").ToJson())!.AsObject();

        foreach (var section in new[]
        {
            "users", "vhosts", "permissions", "topic_permissions", "parameters", "global_parameters", "policies",
            "queues", "exchanges", "bindings",
        })
        {
            Assert.Empty(written[section]!.AsArray());
        }

        Assert.False(written.ContainsKey("rabbit_version"));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"queues": null}""")]
    [InlineData("""{"queues": [null]}""")]
    [InlineData("""{"queues": [{"vhost": "/"}]}""")]
    [InlineData("""{"users": [{"name": "u", "tags": 5}]}""")]
    [InlineData("""{"bindings": [{"source": "x", "vhost": "/", "destination": "q"}]}""")]
    public void Malformed_documents_are_refused(string json)
    {
        Assert.ThrowsAny<JsonException>(() => RabbitMqDefinitions.Parse(json));
    }
}
