using Controller.Contracts;
using Gateway.Server.Control;
using Gateway.Server.Metrics;

namespace Gateway.Server.Tests.Control;

/// <summary>A gateway without a controller must not pay for traffic control: counting a publish allocates nothing.</summary>
public sealed class PublishCountingCostTests
{
    [Fact]
    public void Counting_publishes_without_a_limit_allocates_nothing()
    {
        using var metrics = new GatewayMetrics();
        var traffic = new TrafficControl(metrics);
        ExchangePublishing publishing = traffic.ForExchange("/", "orders");
        Assert.Same(publishing, traffic.ForExchange("/", "orders"));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            publishing.CountPublished();
            Assert.False(publishing.IsLimited);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.Equal(10_000, publishing.Published);
    }

    [Fact]
    public void An_exchange_first_published_to_after_a_state_gets_its_limit()
    {
        using var metrics = new GatewayMetrics();
        var traffic = new TrafficControl(metrics);
        traffic.Apply(new ControlState("e", [], [], [new PublishLimitShare("/", "late", 10, 5), new PublishLimitShare("/", null, 100, 50)]));

        ExchangePublishing late = traffic.ForExchange("/", "late");
        Assert.Equal(5, late.Limit!.RatePerSecond);
        Assert.Equal(50, late.VirtualHost.Limit!.RatePerSecond);
        Assert.Null(traffic.ForExchange("/", "other").Limit);
        Assert.True(traffic.ForExchange("/", "other").IsLimited);   // the vhost-wide limit
        Assert.False(traffic.ForExchange("other-vhost", "late").IsLimited);

        traffic.Apply(ControlState.Empty);
        Assert.False(late.IsLimited);
    }
}
