namespace Gateway.Broker.Tests.Routing;

public sealed class FanoutExchangeTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("events", "fanout")
        .Queues("a", "b", "c");

    [Theory]
    [InlineData("")]
    [InlineData("anything")]
    [InlineData("a.b.#")]
    public void Routes_to_every_bound_queue_whatever_the_routing_key(string routingKey)
    {
        _topology.Bind("events", "a").Bind("events", "b", "ignored-key");

        Assert.Equal(["a", "b"], _topology.Route("events", routingKey));
    }

    [Fact]
    public void A_queue_bound_with_several_keys_receives_the_message_once()
    {
        _topology.Bind("events", "a", "one").Bind("events", "a", "two").Bind("events", "c");

        Assert.Equal(["a", "c"], _topology.Route("events", "x"));
    }

    [Fact]
    public void An_exchange_without_bindings_routes_nowhere()
    {
        Assert.Empty(_topology.Route("events", "x"));
    }

    [Fact]
    public void An_unbound_queue_no_longer_receives()
    {
        _topology.Bind("events", "a").Bind("events", "b");

        _topology.Table.RemoveBinding(Topology.QueueBinding("events", "a"));

        Assert.Equal(["b"], _topology.Route("events", ""));
    }
}
