using Gateway.Broker.Routing;
using static Gateway.Broker.Tests.Routing.Topology;

namespace Gateway.Broker.Tests.Routing;

public sealed class SenderSelectedRoutingTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("direct", "direct")
        .Queues("main", "copy", "hidden", "other")
        .Bind("direct", "main", "k")
        .Bind("direct", "copy", "cc-key")
        .Bind("direct", "hidden", "bcc-key");

    [Fact]
    public void CC_keys_are_routed_in_addition_to_the_routing_key()
    {
        var result = _topology.Table.Route("direct", "k", Headers(("CC", new object?[] { Longstr("cc-key") })));

        Assert.Equal(["copy", "main"], result.Queues.Order(StringComparer.Ordinal));
        Assert.False(result.RemoveBccHeader);
    }

    [Fact]
    public void BCC_keys_are_routed_and_the_header_must_be_removed()
    {
        var result = _topology.Table.Route("direct", "k", Headers(("BCC", new object?[] { Longstr("bcc-key") })));

        Assert.Equal(["hidden", "main"], result.Queues.Order(StringComparer.Ordinal));
        Assert.True(result.RemoveBccHeader);
    }

    [Fact]
    public void CC_and_BCC_together_route_every_key_and_each_queue_once()
    {
        var headers = Headers(
            ("CC", new object?[] { Longstr("cc-key"), Longstr("k") }),
            ("BCC", new object?[] { Longstr("bcc-key"), Longstr("cc-key") }));

        Assert.Equal(["copy", "hidden", "main"], _topology.Route("direct", "k", headers));
    }

    [Fact]
    public void The_routing_key_need_not_match_for_CC_to_route()
    {
        Assert.Equal(["copy"], _topology.Route("direct", "nothing", Headers(("CC", new object?[] { "cc-key" }))));
    }

    [Fact]
    public void Array_elements_that_are_not_longstr_are_skipped()
    {
        var headers = Headers(("CC", new object?[] { 1, null, true, Headers(("k", "cc-key")), Longstr("cc-key") }));

        Assert.Equal(["copy", "main"], _topology.Route("direct", "k", headers));
    }

    [Theory]
    [InlineData("CC")]
    [InlineData("BCC")]
    public void An_empty_array_adds_no_key(string header)
    {
        Assert.Equal(["main"], _topology.Route("direct", "k", Headers((header, Array.Empty<object?>()))));
    }

    [Fact]
    public void Header_names_are_case_sensitive()
    {
        var headers = Headers(("cc", new object?[] { Longstr("cc-key") }), ("bcc", new object?[] { Longstr("bcc-key") }));

        var result = _topology.Table.Route("direct", "k", headers);

        Assert.Equal(["main"], result.Queues);
        Assert.False(result.RemoveBccHeader);
    }

    [Fact]
    public void Only_the_first_CC_header_counts()
    {
        var headers = Headers(("CC", new object?[] { Longstr("cc-key") }), ("CC", new object?[] { Longstr("bcc-key") }));

        Assert.Equal(["copy", "main"], _topology.Route("direct", "k", headers));
    }

    [Theory]
    [InlineData("CC", "longstr")]
    [InlineData("BCC", "longstr")]
    public void A_header_that_is_not_an_array_makes_the_message_invalid(string header, string type)
    {
        var result = _topology.Table.Route("direct", "k", Headers((header, Longstr("cc-key"))));

        Assert.Equal(RouteStatus.InvalidRoutingHeader, result.Status);
        Assert.Equal($"invalid message: {{unacceptable_type_in_header,\"{header}\",{type}}}", result.InvalidHeaderExplanation);
        Assert.Empty(result.Queues);
    }

    [Fact]
    public void The_invalid_type_is_named_as_RabbitMQ_names_it_and_CC_is_checked_first()
    {
        Assert.Equal(
            "invalid message: {unacceptable_type_in_header,\"CC\",void}",
            _topology.Table.Route("direct", "k", Headers(("BCC", 5), ("CC", null))).InvalidHeaderExplanation);
        Assert.Equal(
            "invalid message: {unacceptable_type_in_header,\"BCC\",signedint}",
            _topology.Table.Route("direct", "k", Headers(("BCC", 5))).InvalidHeaderExplanation);
        Assert.Equal(
            "invalid message: {unacceptable_type_in_header,\"CC\",table}",
            _topology.Table.Route("direct", "k", Headers(("CC", Headers(("a", 1))))).InvalidHeaderExplanation);
    }

    [Fact]
    public void CC_works_through_the_default_exchange()
    {
        Assert.Equal(["main", "other"], _topology.Route("", "main", Headers(("CC", new object?[] { Longstr("other"), Longstr("missing") }))));
    }

    [Fact]
    public void CC_keys_travel_through_exchange_bindings()
    {
        _topology.Exchange("front", "fanout").Exchange("logs", "topic")
            .BindExchange("front", "logs")
            .Bind("logs", "other", "audit.#");

        var headers = Headers(("CC", new object?[] { Longstr("audit.eu") }));

        Assert.Equal(["other"], _topology.Route("front", "app.info", headers));
    }

    [Fact]
    public void A_CC_match_keeps_the_message_from_the_alternate_exchange()
    {
        _topology.Exchange("ae", "fanout").Exchange("main-with-ae", "direct", alternateExchange: "ae")
            .Bind("main-with-ae", "copy", "cc-key")
            .Bind("ae", "other");

        Assert.Equal(["copy"], _topology.Route("main-with-ae", "unmatched", Headers(("CC", new object?[] { Longstr("cc-key") }))));
        Assert.Equal(["other"], _topology.Route("main-with-ae", "unmatched"));
    }

    [Fact]
    public void A_fanout_exchange_ignores_the_extra_keys()
    {
        _topology.Exchange("fan", "fanout").Bind("fan", "main");

        Assert.Equal(["main"], _topology.Route("fan", "x", Headers(("CC", new object?[] { Longstr("a"), Longstr("b") }))));
    }
}
