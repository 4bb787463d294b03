using System.Text.Json.Nodes;
using Gateway.Broker.Policies;
using MetaService.Contracts;

namespace Gateway.Broker.Tests.Policies;

/// <summary>Which policy applies to a queue (rabbit_policy's rules) and how the graded redelivery keys read.</summary>
public sealed class PolicyTableTests
{
    private static PolicyRecord Policy(string name, string pattern, int priority = 0, string applyTo = "queues", string vhost = "/") =>
        new(vhost, name, pattern, applyTo, priority, new JsonObject { ["graded-redelivery"] = true });

    [Fact]
    public void The_matching_policy_with_the_highest_priority_applies()
    {
        var table = new PolicyTable();
        table.Load([Policy("all-orders", "^orders", priority: 1), Policy("urgent", "^orders\\.urgent$", priority: 5), Policy("other", "^billing")]);
        Assert.Equal("urgent", table.ForQueue("/", "orders.urgent", quorum: false)?.Name);
        Assert.Equal("all-orders", table.ForQueue("/", "orders.normal", quorum: false)?.Name);
        Assert.Null(table.ForQueue("/", "shipping", quorum: false));
        Assert.Null(table.ForQueue("other-vhost", "orders.normal", quorum: false));
    }

    [Fact]
    public void Apply_to_selects_by_queue_type_and_exchange_policies_never_apply_to_queues()
    {
        var table = new PolicyTable();
        table.Load([Policy("classic", ".*", applyTo: "classic_queues"), Policy("exchanges", ".*", priority: 9, applyTo: "exchanges")]);
        Assert.Equal("classic", table.ForQueue("/", "q", quorum: false)?.Name);
        Assert.Null(table.ForQueue("/", "q", quorum: true));
        table.Put(Policy("quorum", ".*", applyTo: "quorum_queues"));
        Assert.Equal("quorum", table.ForQueue("/", "q", quorum: true)?.Name);
    }

    [Fact]
    public void Equal_priorities_go_to_the_first_name_and_removal_takes_effect()
    {
        var table = new PolicyTable();
        table.Load([Policy("b", ".*"), Policy("a", ".*")]);
        Assert.Equal("a", table.ForQueue("/", "q", quorum: false)?.Name);
        table.Remove("/", "a");
        Assert.Equal("b", table.ForQueue("/", "q", quorum: false)?.Name);
    }

    [Fact]
    public void Graded_redelivery_reads_its_ladder_and_limit_and_refuses_what_does_not_parse()
    {
        Assert.Null(GradedRedeliveryPolicy.FromDefinition(new JsonObject { ["message-ttl"] = 5 }));
        Assert.Null(GradedRedeliveryPolicy.FromDefinition(new JsonObject { ["graded-redelivery"] = false }));

        GradedRedeliveryPolicy defaults = GradedRedeliveryPolicy.FromDefinition(new JsonObject { ["graded-redelivery"] = true })!;
        Assert.Equal(16, defaults.Delays.Count);
        Assert.Equal(16, defaults.DeliveryLimit);
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.DelayAfterReturn(1));
        Assert.Equal(TimeSpan.FromHours(2), defaults.DelayAfterReturn(16));
        Assert.Equal(TimeSpan.FromHours(2), defaults.DelayAfterReturn(40));   // the last step repeats

        GradedRedeliveryPolicy custom = GradedRedeliveryPolicy.FromDefinition(new JsonObject
        {
            ["graded-redelivery"] = true, ["graded-redelivery-delays"] = "500ms 2s 1m 1h", ["graded-redelivery-limit"] = 3,
        })!;
        Assert.Equal([TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)], custom.Delays);
        Assert.Equal(3, custom.DeliveryLimit);
        Assert.Equal(
            [TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1)],
            GradedRedeliveryPolicy.FromDefinition(new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-delays"] = new JsonArray(250, "1s") })!.Delays);

        Assert.False(GradedRedeliveryPolicy.IsValid(new JsonObject { ["graded-redelivery"] = "yes" }, out string? error));
        Assert.Contains("graded-redelivery", error);
        Assert.False(GradedRedeliveryPolicy.IsValid(new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-delays"] = "10 sec" }, out error));
        Assert.Contains("sec", error);
        Assert.False(GradedRedeliveryPolicy.IsValid(new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-delays"] = "" }, out _));
        Assert.False(GradedRedeliveryPolicy.IsValid(new JsonObject { ["graded-redelivery"] = true, ["graded-redelivery-limit"] = -1 }, out _));
    }
}
