using Gateway.Broker.Routing;

namespace Gateway.Broker.Tests.Routing;

public sealed class ExchangeToExchangeTests
{
    private readonly Topology _topology = new Topology().Queues("q1", "q2", "q3");

    [Fact]
    public void Routing_continues_through_matching_exchange_bindings()
    {
        _topology.Exchange("front", "topic").Exchange("billing", "direct").Exchange("audit", "fanout")
            .BindExchange("front", "billing", "invoice.*")
            .BindExchange("front", "audit", "#")
            .Bind("billing", "q1", "invoice.paid")
            .Bind("audit", "q2");

        Assert.Equal(["q1", "q2"], _topology.Route("front", "invoice.paid"));
        Assert.Equal(["q2"], _topology.Route("front", "invoice.sent"));
    }

    [Fact]
    public void Each_destination_exchange_matches_with_its_own_type()
    {
        // The message keeps its routing key through the hops; the topic exchange downstream applies wildcards.
        _topology.Exchange("entry", "fanout").Exchange("logs", "topic")
            .BindExchange("entry", "logs")
            .Bind("logs", "q1", "*.error")
            .Bind("logs", "q2", "app.#");

        Assert.Equal(["q1", "q2"], _topology.Route("entry", "app.error"));
        Assert.Equal(["q2"], _topology.Route("entry", "app.info"));
    }

    [Fact]
    public void A_queue_reached_by_several_paths_receives_the_message_once()
    {
        // A diamond: front -> left -> q1 and front -> right -> q1.
        _topology.Exchange("front", "fanout").Exchange("left", "fanout").Exchange("right", "fanout")
            .BindExchange("front", "left").BindExchange("front", "right")
            .Bind("left", "q1").Bind("right", "q1").Bind("front", "q1");

        Assert.Equal(["q1"], _topology.Route("front", ""));
    }

    [Fact]
    public void A_cycle_ends_because_each_exchange_routes_once_per_message()
    {
        _topology.Exchange("a", "fanout").Exchange("b", "fanout").Exchange("c", "fanout")
            .BindExchange("a", "b").BindExchange("b", "c").BindExchange("c", "a")
            .Bind("b", "q1").Bind("c", "q2");

        Assert.Equal(["q1", "q2"], _topology.Route("a", ""));
        Assert.Equal(["q1", "q2"], _topology.Route("c", ""));
    }

    [Fact]
    public void An_exchange_bound_to_itself_routes_once()
    {
        _topology.Exchange("self", "fanout").BindExchange("self", "self").Bind("self", "q1");

        Assert.Equal(["q1"], _topology.Route("self", ""));
    }

    [Fact]
    public void An_internal_exchange_is_routed_through()
    {
        _topology.Exchange("public", "direct").Exchange("hidden", "fanout", isInternal: true)
            .BindExchange("public", "hidden", "k")
            .Bind("hidden", "q1");

        var result = _topology.Table.Route("public", "k", null);

        Assert.False(result.ExchangeIsInternal);
        Assert.Equal(["q1"], result.Queues);
    }

    [Fact]
    public void Removing_a_destination_exchange_removes_the_bindings_to_it()
    {
        _topology.Exchange("front", "fanout").Exchange("middle", "fanout")
            .BindExchange("front", "middle").Bind("middle", "q1").Bind("front", "q2");

        _topology.Table.RemoveExchange("middle");
        Assert.Equal(["q2"], _topology.Route("front", ""));

        // Redeclared, it starts without bindings either way.
        _topology.Exchange("middle", "fanout");
        Assert.Equal(["q2"], _topology.Route("front", ""));
        Assert.Empty(_topology.Route("middle", ""));
    }

    [Fact]
    public void Unbinding_an_exchange_stops_the_flow()
    {
        _topology.Exchange("front", "direct").Exchange("back", "fanout")
            .BindExchange("front", "back", "k").Bind("back", "q1");

        _topology.Table.RemoveBinding(Topology.ExchangeBinding("front", "back", "k"));

        Assert.Empty(_topology.Route("front", "k"));
        Assert.Equal(RouteStatus.Routed, _topology.Table.Route("back", "", null).Status);
    }
}
