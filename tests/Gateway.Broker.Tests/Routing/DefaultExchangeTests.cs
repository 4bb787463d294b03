using Gateway.Broker.Routing;
using static Gateway.Broker.Tests.Routing.Topology;

namespace Gateway.Broker.Tests.Routing;

public sealed class DefaultExchangeTests
{
    private readonly Topology _topology = new Topology().Queues("tasks", "other");

    [Fact]
    public void Routes_to_the_queue_named_by_the_routing_key()
    {
        Assert.Equal(["tasks"], _topology.Route("", "tasks"));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("Tasks")]
    [InlineData("")]
    public void Routes_nowhere_when_no_queue_has_that_name(string routingKey)
    {
        Assert.Empty(_topology.Route("", routingKey));
    }

    [Fact]
    public void Exists_in_every_vhost_and_is_not_internal()
    {
        var result = new VirtualHostRoutingTable("/").Route("", "q", null);

        Assert.Equal(RouteStatus.Routed, result.Status);
        Assert.False(result.ExchangeIsInternal);
        Assert.Empty(result.Queues);
    }

    [Fact]
    public void Follows_queues_as_they_are_added_and_removed()
    {
        _topology.Table.RemoveQueue("tasks");
        Assert.Empty(_topology.Route("", "tasks"));

        _topology.Table.AddQueue("tasks");
        Assert.Equal(["tasks"], _topology.Route("", "tasks"));
    }

    [Fact]
    public void Cannot_be_declared_or_bound()
    {
        _topology.Exchange("x", "direct");

        Assert.Throws<ArgumentException>(() => _topology.Table.AddExchange(ExchangeRecord("", "direct")));
        Assert.Throws<ArgumentException>(() => _topology.Table.AddBinding(QueueBinding("", "tasks", "k")));
        Assert.Throws<ArgumentException>(() => _topology.Table.AddBinding(ExchangeBinding("x", "", "k")));
        Assert.Throws<ArgumentException>(() => _topology.Table.AddBinding(ExchangeBinding("", "x", "k")));
    }
}
