using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Broker.Routing;
using static Gateway.Broker.Tests.Routing.Topology;

namespace Gateway.Broker.Tests.Routing;

/// <summary>Keeping the table consistent as the metadata changes: removals cascade, repeats are harmless, bad input is refused.</summary>
public sealed class RoutingTableTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("x", "direct")
        .Exchange("y", "fanout")
        .Queues("q1", "q2");

    [Fact]
    public void An_unknown_exchange_is_not_found()
    {
        var result = _topology.Table.Route("missing", "k", null);

        Assert.Equal(RouteStatus.ExchangeNotFound, result.Status);
        Assert.Empty(result.Queues);
    }

    [Fact]
    public void A_removed_exchange_is_not_found()
    {
        _topology.Bind("x", "q1", "k");

        _topology.Table.RemoveExchange("x");

        Assert.Equal(RouteStatus.ExchangeNotFound, _topology.Table.Route("x", "k", null).Status);
    }

    [Fact]
    public void Removing_a_queue_removes_its_bindings_everywhere()
    {
        _topology.Bind("x", "q1", "k").Bind("x", "q2", "k").Bind("y", "q1");

        _topology.Table.RemoveQueue("q1");

        Assert.Equal(["q2"], _topology.Route("x", "k"));
        Assert.Empty(_topology.Route("y", ""));

        // A queue of the same name declared later starts unbound.
        _topology.Table.AddQueue("q1");
        Assert.Equal(["q2"], _topology.Route("x", "k"));
    }

    [Fact]
    public void Removing_an_exchange_removes_the_bindings_it_is_the_source_of()
    {
        _topology.Bind("x", "q1", "k").BindExchange("x", "y", "k");

        _topology.Table.RemoveExchange("x");
        _topology.Exchange("x", "direct");

        Assert.Empty(_topology.Route("x", "k"));
    }

    [Fact]
    public void Adding_again_changes_nothing()
    {
        _topology.Bind("x", "q1", "k").Bind("x", "q1", "k").Queues("q1");

        _topology.Table.RemoveBinding(QueueBinding("x", "q1", "k"));

        Assert.Empty(_topology.Route("x", "k"));
    }

    [Fact]
    public void Removing_what_is_not_there_is_not_an_error()
    {
        _topology.Bind("x", "q1", "k");

        _topology.Table.RemoveBinding(QueueBinding("x", "q1", "other"));
        _topology.Table.RemoveBinding(QueueBinding("x", "q2", "k"));
        _topology.Table.RemoveBinding(QueueBinding("missing", "q1", "k"));
        _topology.Table.RemoveQueue("missing");
        _topology.Table.RemoveExchange("missing");

        Assert.Equal(["q1"], _topology.Route("x", "k"));
    }

    [Fact]
    public void Updating_an_exchange_keeps_its_bindings()
    {
        _topology.Bind("x", "q1", "k");

        _topology.Table.AddExchange(ExchangeRecord("x", "direct") with { Durable = false, Arguments = new JsonObject { ["unrelated"] = 1 } });

        Assert.Equal(["q1"], _topology.Route("x", "k"));
    }

    [Fact]
    public void An_exchange_cannot_change_type_without_being_removed()
    {
        _topology.Bind("x", "q1", "k");

        Assert.Throws<InvalidOperationException>(() => _topology.Table.AddExchange(ExchangeRecord("x", "topic")));
        Assert.Equal(["q1"], _topology.Route("x", "k"));

        _topology.Table.RemoveExchange("x");
        _topology.Exchange("x", "topic").Bind("x", "q1", "k.*");
        Assert.Equal(["q1"], _topology.Route("x", "k.a"));
    }

    [Theory]
    [InlineData("x-delayed-message")]
    [InlineData("Direct")]
    [InlineData("")]
    public void An_exchange_type_the_router_does_not_implement_is_refused(string type)
    {
        var error = Assert.Throws<ArgumentException>(() => _topology.Table.AddExchange(ExchangeRecord("plugin", type)));

        Assert.Contains($"'{type}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(RouteStatus.ExchangeNotFound, _topology.Table.Route("plugin", "", null).Status);
    }

    [Fact]
    public void A_binding_needs_its_source_and_destination_in_the_table()
    {
        Assert.Throws<InvalidOperationException>(() => _topology.Table.AddBinding(QueueBinding("missing", "q1", "k")));
        Assert.Throws<InvalidOperationException>(() => _topology.Table.AddBinding(QueueBinding("x", "missing", "k")));
        Assert.Throws<InvalidOperationException>(() => _topology.Table.AddBinding(ExchangeBinding("x", "missing", "k")));
        // A queue and an exchange of the same name are different destinations.
        Assert.Throws<InvalidOperationException>(() => _topology.Table.AddBinding(ExchangeBinding("x", "q1", "k")));
    }

    [Fact]
    public void Records_of_another_vhost_are_refused()
    {
        Assert.Throws<ArgumentException>(() => _topology.Table.AddExchange(ExchangeRecord("z", "direct") with { VirtualHost = "other" }));
        Assert.Throws<ArgumentException>(() => _topology.Table.AddBinding(QueueBinding("x", "q1") with { VirtualHost = "other" }));
        Assert.Throws<ArgumentException>(() => _topology.Table.RemoveBinding(QueueBinding("x", "q1") with { VirtualHost = "other" }));
    }

    [Fact]
    public void Records_from_the_change_feed_route_like_records_built_in_code()
    {
        // The follower deserialises records from JSON: numbers arrive JSON-backed, not as CLR values.
        var exchange = JsonSerializerRoundTrip(ExchangeRecord("h", "headers"));
        var binding = JsonSerializerRoundTrip(QueueBinding("h", "q1", "", new JsonObject { ["n"] = 1, ["s"] = "v" }));
        _topology.Table.AddExchange(exchange);
        _topology.Table.AddBinding(binding);

        Assert.Equal(["q1"], _topology.Route("h", "", Headers(("n", 1), ("s", Longstr("v")))));

        _topology.Table.RemoveBinding(QueueBinding("h", "q1", "", new JsonObject { ["s"] = "v", ["n"] = 1 }));
        Assert.Empty(_topology.Route("h", "", Headers(("n", 1), ("s", Longstr("v")))));
    }

    private static T JsonSerializerRoundTrip<T>(T record) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(record, JsonSerializerOptions.Web), JsonSerializerOptions.Web)!;
}
