using Gateway.Broker.Routing;

namespace Gateway.Broker.Tests.Routing;

public sealed class InternalExchangeTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("hidden", "fanout", isInternal: true)
        .Queues("q")
        .Bind("hidden", "q");

    [Fact]
    public void Publishing_to_an_internal_exchange_is_reported_so_the_caller_can_refuse_it()
    {
        var result = _topology.Table.Route("hidden", "", null);

        Assert.True(result.ExchangeIsInternal);
        // Still routed: the broker itself (dead-lettering) may publish through an internal exchange.
        Assert.Equal(RouteStatus.Routed, result.Status);
        Assert.Equal(["q"], result.Queues);
    }

    [Fact]
    public void The_internal_flag_is_reported_with_an_invalid_routing_header_so_403_can_come_first()
    {
        var result = _topology.Table.Route("hidden", "", Topology.Headers(("CC", 1)));

        Assert.Equal(RouteStatus.InvalidRoutingHeader, result.Status);
        Assert.True(result.ExchangeIsInternal);
    }

    [Fact]
    public void Updating_an_exchange_updates_its_internal_flag_and_keeps_its_bindings()
    {
        _topology.Exchange("hidden", "fanout", isInternal: false);
        Assert.False(_topology.Table.Route("hidden", "", null).ExchangeIsInternal);

        _topology.Exchange("hidden", "fanout", isInternal: true);
        Assert.True(_topology.Table.Route("hidden", "", null).ExchangeIsInternal);
        Assert.Equal(["q"], _topology.Table.Route("hidden", "", null).Queues);
    }
}
