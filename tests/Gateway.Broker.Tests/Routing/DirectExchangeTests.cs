using System.Text.Json.Nodes;

namespace Gateway.Broker.Tests.Routing;

public sealed class DirectExchangeTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("orders", "direct")
        .Queues("created", "created-audit", "shipped");

    [Fact]
    public void Routes_to_every_queue_bound_with_exactly_the_routing_key()
    {
        _topology.Bind("orders", "created", "order.created")
            .Bind("orders", "created-audit", "order.created")
            .Bind("orders", "shipped", "order.shipped");

        Assert.Equal(["created", "created-audit"], _topology.Route("orders", "order.created"));
        Assert.Equal(["shipped"], _topology.Route("orders", "order.shipped"));
    }

    [Theory]
    [InlineData("Order.Created")]
    [InlineData("order.created ")]
    [InlineData("order")]
    [InlineData("order.*")]
    [InlineData("#")]
    [InlineData("")]
    public void Does_not_route_on_a_key_that_differs_in_any_way(string routingKey)
    {
        // Direct matching is ordinal equality: no case folding, trimming or wildcards.
        _topology.Bind("orders", "created", "order.created");

        Assert.Empty(_topology.Route("orders", routingKey));
    }

    [Fact]
    public void The_empty_binding_key_matches_only_the_empty_routing_key()
    {
        _topology.Bind("orders", "created", "");

        Assert.Equal(["created"], _topology.Route("orders", ""));
        Assert.Empty(_topology.Route("orders", "x"));
    }

    [Fact]
    public void A_queue_bound_twice_receives_the_message_once()
    {
        // Same key with different arguments: two bindings in RabbitMQ, one delivery.
        _topology.Bind("orders", "created", "k").Bind("orders", "created", "k", new JsonObject { ["tag"] = "second" });

        Assert.Equal(["created"], _topology.Route("orders", "k"));
    }

    [Fact]
    public void Removing_one_of_two_bindings_that_differ_only_in_arguments_keeps_the_other()
    {
        _topology.Bind("orders", "created", "k").Bind("orders", "created", "k", new JsonObject { ["tag"] = "second" });

        _topology.Table.RemoveBinding(Topology.QueueBinding("orders", "created", "k"));
        Assert.Equal(["created"], _topology.Route("orders", "k"));

        _topology.Table.RemoveBinding(Topology.QueueBinding("orders", "created", "k", new JsonObject { ["tag"] = "second" }));
        Assert.Empty(_topology.Route("orders", "k"));
    }

    [Fact]
    public void Binding_arguments_identify_a_binding_whatever_their_key_order()
    {
        _topology.Bind("orders", "created", "k", new JsonObject { ["a"] = 1, ["b"] = new JsonObject { ["y"] = 2, ["x"] = 3 } });

        var reordered = new JsonObject { ["b"] = new JsonObject { ["x"] = 3, ["y"] = 2 }, ["a"] = 1 };
        _topology.Table.RemoveBinding(Topology.QueueBinding("orders", "created", "k", reordered));

        Assert.Empty(_topology.Route("orders", "k"));
    }
}
