using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Tests.Support;

namespace Controller.Tests;

/// <summary>The share rule (controller/README.md, "Shares"), on reports alone: no server, no database.</summary>
public sealed class SharesTests
{
    private static readonly ConsumeLimit OrdersLimit = new("/", "orders", 120);

    [Fact]
    public void Consume_limit_with_no_consumers_anywhere_gives_every_node_the_whole_rate()
    {
        var states = Build(new RuleSet([], [OrdersLimit], []), Reports.Node("a"), Reports.Node("b", [Reports.Queue("/", "orders", consumers: 0)]));

        Assert.Equal(120, ConsumeShare(states, "a"));
        Assert.Equal(120, ConsumeShare(states, "b"));
        Assert.Equal(120, ConsumeShare(states, "never-registered"));
    }

    [Fact]
    public void Active_nodes_split_a_consume_limit_by_consumer_count_and_others_get_rate_over_active_plus_one()
    {
        var states = Build(
            new RuleSet([], [OrdersLimit], []),
            Reports.Node("a", [Reports.Queue("/", "orders", consumers: 3)]),
            Reports.Node("b", [Reports.Queue("/", "orders", consumers: 1)]),
            Reports.Node("c", [Reports.Queue("/", "other", consumers: 5)]));

        Assert.Equal(90, ConsumeShare(states, "a"));
        Assert.Equal(30, ConsumeShare(states, "b"));
        // Not consuming yet: a share of rate / (2 active + 1), so a first consumer there starts at once.
        Assert.Equal(40, ConsumeShare(states, "c"));
        Assert.Equal(40, ConsumeShare(states, "unknown"));
        Assert.All(states.For("a").ConsumeLimits, s => Assert.Equal(120, s.GlobalPerSecond));
    }

    [Fact]
    public void Consume_limit_counts_only_its_own_vhost()
    {
        var states = Build(
            new RuleSet([], [OrdersLimit], []),
            Reports.Node("a", [Reports.Queue("/", "orders", consumers: 2)]),
            Reports.Node("b", [Reports.Queue("other-vhost", "orders", consumers: 2)]));

        Assert.Equal(120, ConsumeShare(states, "a"));
        Assert.Equal(60, ConsumeShare(states, "b"));
    }

    [Fact]
    public void A_node_that_is_not_live_is_not_active_so_the_live_ones_get_its_part()
    {
        var rules = new RuleSet([], [OrdersLimit], []);
        var a = Reports.Node("a", [Reports.Queue("/", "orders", consumers: 1)]);
        var b = Reports.Node("b", [Reports.Queue("/", "orders", consumers: 1)]);

        Assert.Equal(60, ConsumeShare(Build(rules, a, b), "a"));
        // b lost: only live nodes are passed in.
        Assert.Equal(120, ConsumeShare(Build(rules, a), "a"));
        Assert.Equal(60, ConsumeShare(Build(rules, a), "b"));
    }

    [Fact]
    public void Publish_limit_on_a_vhost_counts_publishing_into_any_of_its_exchanges_equally()
    {
        var limit = new PublishLimit("/", null, 100);
        var states = Build(
            new RuleSet([], [], [limit]),
            Reports.Node("a", publishing: [Reports.Publishing("/", "amq.topic", 500)]),
            Reports.Node("b", publishing: [Reports.Publishing("/", "", 1)]),
            Reports.Node("c", publishing: [Reports.Publishing("/", "idle", 0), Reports.Publishing("elsewhere", "x", 50)]));

        // Equal split whatever the rates: 500/s and 1/s publishers both get half.
        Assert.Equal(50, PublishShare(states, "a"));
        Assert.Equal(50, PublishShare(states, "b"));
        Assert.Equal(100.0 / 3, PublishShare(states, "c"));
    }

    [Fact]
    public void Publish_limit_on_an_exchange_counts_only_that_exchange_and_the_default_exchange_is_not_the_vhost()
    {
        var states = Build(
            new RuleSet([], [], [new PublishLimit("/", "", 90), new PublishLimit("/", "orders", 60)]),
            Reports.Node("a", publishing: [Reports.Publishing("/", "", 10)]),
            Reports.Node("b", publishing: [Reports.Publishing("/", "orders", 10)]),
            Reports.Node("c", publishing: [Reports.Publishing("/", "orders", 10)]));

        var a = states.For("a").PublishLimits;
        var b = states.For("b").PublishLimits;
        Assert.Equal(90, a.Single(l => l.Exchange == "").SharePerSecond);
        Assert.Equal(60.0 / 3, a.Single(l => l.Exchange == "orders").SharePerSecond);
        Assert.Equal(90.0 / 2, b.Single(l => l.Exchange == "").SharePerSecond);
        Assert.Equal(30, b.Single(l => l.Exchange == "orders").SharePerSecond);
    }

    [Fact]
    public void A_huge_limit_gives_finite_shares_that_the_state_can_be_written_with()
    {
        // A limit stored before rates were capped: rate × weight overflowed to +∞, which no state poll could write.
        var states = Build(
            new RuleSet([], [new ConsumeLimit("/", "orders", 1e308)], []),
            Reports.Node("a", [Reports.Queue("/", "orders", consumers: 3)]),
            Reports.Node("b", [Reports.Queue("/", "orders", consumers: 1)]));

        Assert.Equal(0.75e308, ConsumeShare(states, "a"), 1e294);
        Assert.Equal(0.25e308, ConsumeShare(states, "b"), 1e294);
        Assert.Contains("\"sharePerSecond\"", System.Text.Json.JsonSerializer.Serialize(states.For("a"), ControllerJsonContext.Default.ControlState), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_node_gets_every_pause_rule()
    {
        var pause = new PauseRule("p1", "/", "orders", "10.0.0.0/8", null, Reports.Started);
        var states = Build(new RuleSet([pause], [], []), Reports.Node("a"));

        Assert.Equal([pause], states.For("a").Pauses);
        Assert.Equal([pause], states.For("b").Pauses);
    }

    [Fact]
    public void ETag_depends_on_content_only_not_on_report_order_or_instance()
    {
        var rules = new RuleSet([new PauseRule("p1", "/", "q", null, null, Reports.Started)], [OrdersLimit], [new PublishLimit("/", null, 10)]);
        var a = Reports.Node("a", [Reports.Queue("/", "orders", consumers: 1)]);
        var b = Reports.Node("b", [Reports.Queue("/", "orders", consumers: 2)]);
        var one = Build(rules, a, b);
        var two = Build(new RuleSet(rules.Pauses.Reverse(), rules.ConsumeLimits, rules.PublishLimits), b, a);

        Assert.Equal(one.For("a").ETag, two.For("a").ETag);
        Assert.NotEqual(one.For("a").ETag, one.For("b").ETag);
        Assert.Equal(one.For("x").ETag, one.For("y").ETag);
        var changed = Build(rules.With(consumeLimits: [OrdersLimit with { MessagesPerSecond = 121 }]), a, b);
        Assert.NotEqual(one.For("a").ETag, changed.For("a").ETag);
        var otherPause = Build(rules.With(pauses: [new PauseRule("p1", "/", "q", "10.0.0.1", null, Reports.Started)]), a, b);
        Assert.NotEqual(one.For("a").ETag, otherPause.For("a").ETag);
    }

    [Fact]
    public void Fingerprint_moves_with_active_sets_and_weights_but_not_with_rates()
    {
        var rules = new RuleSet([], [OrdersLimit], []);
        var before = Build(rules, Reports.Node("a", [Reports.Queue("/", "orders", consumers: 1, ready: 5, deliverRate: 1)]));
        var ratesOnly = Build(rules, Reports.Node("a", [Reports.Queue("/", "orders", consumers: 1, ready: 500, deliverRate: 99)]));
        var moreConsumers = Build(rules, Reports.Node("a", [Reports.Queue("/", "orders", consumers: 2)]));

        Assert.Equal(before.SharesFingerprint, ratesOnly.SharesFingerprint);
        Assert.NotEqual(before.SharesFingerprint, moreConsumers.SharesFingerprint);
    }

    [Fact]
    public void Polls_for_made_up_nodes_do_not_grow_the_state_cache()
    {
        var states = Build(new RuleSet([], [OrdersLimit], []), Reports.Node("a", [Reports.Queue("/", "orders", consumers: 1)]));

        var outsiders = Enumerable.Range(0, 1000).Select(i => states.For($"made-up-{i}")).ToList();
        states.For("a");

        Assert.All(outsiders, s => Assert.Same(outsiders[0], s));
        Assert.Equal(60, outsiders[0].ConsumeLimits.Single().SharePerSecond);
        Assert.Equal(1, states.CachedStates);
    }

    [Theory]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData(" 10.1.0.0/16 ", "10.1.0.0/16")]
    [InlineData("2001:DB8::1", "2001:db8::1")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("10.1.2.3/16", "10.1.0.0/16")]
    public void Client_addresses_are_kept_in_canonical_form(string given, string canonical) =>
        Assert.Equal(canonical, PauseScopes.CanonicalAddress(given));

    [Theory]
    [InlineData("")]
    [InlineData("app-host")]
    [InlineData("10.1")]
    [InlineData("10.1.2.3/33")]
    [InlineData("10.1.2.3/")]
    [InlineData("300.1.2.3")]
    [InlineData("0x0a.1.2.3")]
    [InlineData("/8")]
    public void Anything_else_is_not_a_client_address(string given) =>
        Assert.Null(PauseScopes.CanonicalAddress(given));

    private static DesiredStates Build(RuleSet rules, params GatewayReport[] liveReports) =>
        DesiredStates.Build(rules, [.. liveReports.Select(NodeLoad.From)]);

    private static double ConsumeShare(DesiredStates states, string nodeId) => states.For(nodeId).ConsumeLimits.Single().SharePerSecond;

    private static double PublishShare(DesiredStates states, string nodeId) => states.For(nodeId).PublishLimits.Single().SharePerSecond;
}
