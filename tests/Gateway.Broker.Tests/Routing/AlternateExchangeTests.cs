namespace Gateway.Broker.Tests.Routing;

public sealed class AlternateExchangeTests
{
    private readonly Topology _topology = new Topology().Queues("orders", "unrouted", "unrouted-2");

    [Fact]
    public void A_message_no_binding_matches_goes_to_the_alternate_exchange()
    {
        _topology.Exchange("ae", "fanout").Exchange("main", "direct", alternateExchange: "ae")
            .Bind("main", "orders", "order")
            .Bind("ae", "unrouted");

        Assert.Equal(["orders"], _topology.Route("main", "order"));
        Assert.Equal(["unrouted"], _topology.Route("main", "other"));
    }

    [Fact]
    public void Alternate_exchanges_chain()
    {
        _topology.Exchange("ae2", "fanout")
            .Exchange("ae1", "direct", alternateExchange: "ae2")
            .Exchange("main", "direct", alternateExchange: "ae1")
            .Bind("ae1", "unrouted", "known-to-ae1")
            .Bind("ae2", "unrouted-2");

        Assert.Equal(["unrouted"], _topology.Route("main", "known-to-ae1"));
        Assert.Equal(["unrouted-2"], _topology.Route("main", "unknown"));
    }

    [Fact]
    public void A_cycle_of_alternate_exchanges_ends()
    {
        _topology.Exchange("a", "direct", alternateExchange: "b").Exchange("b", "direct", alternateExchange: "a")
            .Bind("b", "unrouted", "for-b");

        Assert.Empty(_topology.Route("a", "nothing"));
        Assert.Equal(["unrouted"], _topology.Route("a", "for-b"));
    }

    [Fact]
    public void An_exchange_that_is_its_own_alternate_routes_nowhere()
    {
        _topology.Exchange("loop", "direct", alternateExchange: "loop");

        Assert.Empty(_topology.Route("loop", "k"));
    }

    [Fact]
    public void A_missing_alternate_exchange_is_skipped_until_it_exists()
    {
        _topology.Exchange("main", "direct", alternateExchange: "ae");
        Assert.Empty(_topology.Route("main", "k"));

        _topology.Exchange("ae", "fanout").Bind("ae", "unrouted");
        Assert.Equal(["unrouted"], _topology.Route("main", "k"));

        _topology.Table.RemoveExchange("ae");
        Assert.Empty(_topology.Route("main", "k"));
    }

    [Fact]
    public void An_exchange_reached_through_a_binding_uses_its_own_alternate()
    {
        _topology.Exchange("ae", "fanout").Exchange("inner", "direct", alternateExchange: "ae").Exchange("front", "fanout")
            .BindExchange("front", "inner")
            .Bind("inner", "orders", "order")
            .Bind("ae", "unrouted");

        Assert.Equal(["orders"], _topology.Route("front", "order"));
        Assert.Equal(["unrouted"], _topology.Route("front", "other"));
    }

    [Fact]
    public void A_matching_exchange_binding_counts_as_routed_even_if_nothing_follows()
    {
        // rabbit_exchange:process_alternate/2 looks only at the exchange's own matches: an exchange
        // destination is a match, so main's alternate is not used though "empty" reaches no queue.
        _topology.Exchange("ae", "fanout").Exchange("empty", "fanout").Exchange("main", "direct", alternateExchange: "ae")
            .BindExchange("main", "empty", "k")
            .Bind("ae", "unrouted");

        Assert.Empty(_topology.Route("main", "k"));
        Assert.Equal(["unrouted"], _topology.Route("main", "other"));
    }

    [Fact]
    public void An_alternate_that_is_also_a_binding_destination_delivers_once()
    {
        // front fans out to x (matches nothing, so its alternate y) and to y directly.
        _topology.Exchange("y", "fanout").Exchange("x", "direct", alternateExchange: "y").Exchange("front", "fanout")
            .BindExchange("front", "x").BindExchange("front", "y")
            .Bind("y", "unrouted");

        Assert.Equal(["unrouted"], _topology.Route("front", "k"));
    }

    [Fact]
    public void An_internal_alternate_exchange_still_receives()
    {
        _topology.Exchange("ae", "fanout", isInternal: true).Exchange("main", "direct", alternateExchange: "ae")
            .Bind("ae", "unrouted");

        Assert.Equal(["unrouted"], _topology.Route("main", "k"));
    }

    [Fact]
    public void Updating_the_exchange_can_set_or_clear_its_alternate()
    {
        _topology.Exchange("ae", "fanout").Exchange("main", "direct").Bind("ae", "unrouted").Bind("main", "orders", "order");
        Assert.Empty(_topology.Route("main", "other"));

        _topology.Exchange("main", "direct", alternateExchange: "ae");
        Assert.Equal(["unrouted"], _topology.Route("main", "other"));
        Assert.Equal(["orders"], _topology.Route("main", "order"));

        _topology.Exchange("main", "direct");
        Assert.Empty(_topology.Route("main", "other"));
    }
}
