using System.Text.Json.Nodes;
using static Gateway.Broker.Tests.Routing.Topology;

namespace Gateway.Broker.Tests.Routing;

public sealed class HeadersExchangeTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("match", "headers")
        .Queues("q");

    [Fact]
    public void All_needs_every_argument_to_match()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["x-match"] = "all", ["format"] = "pdf", ["type"] = "report" });

        Assert.Equal(["q"], Route(("format", Longstr("pdf")), ("type", Longstr("report")), ("extra", 1)));
        Assert.Empty(Route(("format", Longstr("pdf"))));
        Assert.Empty(Route(("format", Longstr("pdf")), ("type", Longstr("log"))));
    }

    [Fact]
    public void Any_needs_one_argument_to_match()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["x-match"] = "any", ["format"] = "pdf", ["type"] = "report" });

        Assert.Equal(["q"], Route(("type", Longstr("report"))));
        Assert.Equal(["q"], Route(("format", Longstr("pdf")), ("type", Longstr("log"))));
        Assert.Empty(Route(("format", Longstr("zip")), ("type", Longstr("log"))));
        Assert.Empty(Route());
    }

    [Fact]
    public void Without_x_match_the_mode_is_all()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["format"] = "pdf", ["type"] = "report" });

        Assert.Empty(Route(("format", Longstr("pdf"))));
        Assert.Equal(["q"], Route(("format", Longstr("pdf")), ("type", Longstr("report"))));
    }

    [Fact]
    public void An_unknown_x_match_value_means_all()
    {
        // The metadata store refuses such a binding now; RabbitMQ's parse_x_match/1 still reads any stray value as all.
        _topology.Bind("match", "q", arguments: new JsonObject { ["x-match"] = "most", ["a"] = 1, ["b"] = 2 });

        Assert.Empty(Route(("a", 1)));
        Assert.Equal(["q"], Route(("a", 1), ("b", 2)));
    }

    [Fact]
    public void All_with_no_arguments_matches_every_message_and_any_with_none_matches_nothing()
    {
        _topology.Queues("q2")
            .Bind("match", "q", arguments: new JsonObject { ["x-match"] = "all" })
            .Bind("match", "q2", arguments: new JsonObject { ["x-match"] = "any" });

        Assert.Equal(["q"], Route());
        Assert.Equal(["q"], Route(("anything", 1)));
        Assert.Equal(["q"], _topology.Route("match", "", headers: null));
    }

    [Fact]
    public void Plain_all_and_any_ignore_x_arguments()
    {
        _topology.Queues("q2")
            .Bind("match", "q", arguments: new JsonObject { ["x-match"] = "all", ["x-first-death-reason"] = "expired", ["kind"] = "a" })
            .Bind("match", "q2", arguments: new JsonObject { ["x-match"] = "any", ["x-first-death-reason"] = "expired" });

        // q: x-first-death-reason is not required; q2: only x- arguments, so nothing left to match with any.
        Assert.Equal(["q"], Route(("kind", Longstr("a"))));
        Assert.Equal(["q"], Route(("kind", Longstr("a")), ("x-first-death-reason", Longstr("rejected"))));
    }

    [Fact]
    public void With_x_variants_x_arguments_take_part()
    {
        _topology.Queues("q2")
            .Bind("match", "q", arguments: new JsonObject { ["x-match"] = "all-with-x", ["x-first-death-reason"] = "expired", ["kind"] = "a" })
            .Bind("match", "q2", arguments: new JsonObject { ["x-match"] = "any-with-x", ["x-first-death-reason"] = "expired", ["kind"] = "b" });

        Assert.Empty(Route(("kind", Longstr("a"))));
        Assert.Equal(["q2"], Route(("kind", Longstr("b"))));
        Assert.Equal(["q", "q2"], Route(("kind", Longstr("a")), ("x-first-death-reason", Longstr("expired"))));
        Assert.Equal(["q2"], Route(("x-first-death-reason", Longstr("expired"))));
        Assert.Empty(Route(("x-first-death-reason", Longstr("rejected"))));
    }

    [Theory]
    [InlineData("all")]
    [InlineData("any")]
    [InlineData("all-with-x")]
    [InlineData("any-with-x")]
    public void X_match_itself_is_never_compared_with_the_headers(string mode)
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["x-match"] = mode, ["k"] = 1 });

        Assert.Equal(["q"], Route(("k", 1)));
        Assert.Equal(["q"], Route(("k", 1), ("x-match", Longstr("something else"))));
    }

    [Fact]
    public void A_void_argument_asks_only_for_the_header_to_be_present()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["x-match"] = "all", ["trace"] = null });

        Assert.Equal(["q"], Route(("trace", Longstr("anything"))));
        Assert.Equal(["q"], Route(("trace", 0)));
        Assert.Equal(["q"], Route(("trace", null)));
        Assert.Empty(Route(("other", null)));
    }

    [Fact]
    public void A_void_header_does_not_equal_a_valued_argument()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["k"] = "v" });

        Assert.Empty(Route(("k", null)));
    }

    [Fact]
    public void Integers_match_across_widths_and_against_equal_floats()
    {
        // RabbitMQ compares PV == DV (Erlang ==), ignoring the type tags: signedint 1 == long 1 == double 1.0.
        _topology.Bind("match", "q", arguments: new JsonObject { ["n"] = 1 });

        Assert.Equal(["q"], Route(("n", 1)));
        Assert.Equal(["q"], Route(("n", 1L)));
        Assert.Equal(["q"], Route(("n", (byte)1)));
        Assert.Equal(["q"], Route(("n", (short)1)));
        Assert.Equal(["q"], Route(("n", 1u)));
        Assert.Equal(["q"], Route(("n", 1.0)));
        Assert.Equal(["q"], Route(("n", 1.0f)));
        Assert.Empty(Route(("n", 2)));
        Assert.Empty(Route(("n", 1.5)));
        Assert.Empty(Route(("n", Longstr("1"))));
        Assert.Empty(Route(("n", true)));
        Assert.Empty(Route(("n", 1m)));
    }

    [Fact]
    public void Strings_match_header_bytes_or_text_exactly()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["s"] = "Grüße" });

        Assert.Equal(["q"], Route(("s", Longstr("Grüße"))));
        Assert.Equal(["q"], Route(("s", "Grüße")));
        Assert.Empty(Route(("s", Longstr("grüße"))));
        Assert.Empty(Route(("s", Longstr("Grüße "))));
    }

    [Fact]
    public void Booleans_match_only_booleans()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["b"] = true });

        Assert.Equal(["q"], Route(("b", true)));
        Assert.Empty(Route(("b", false)));
        Assert.Empty(Route(("b", 1)));
        Assert.Empty(Route(("b", Longstr("true"))));
    }

    [Fact]
    public void Arrays_and_tables_match_element_by_element_in_order()
    {
        _topology.Queues("q2")
            .Bind("match", "q", arguments: new JsonObject { ["tags"] = new JsonArray("a", 1) })
            .Bind("match", "q2", arguments: new JsonObject { ["origin"] = new JsonObject { ["region"] = "eu", ["zone"] = 2 } });

        Assert.Equal(["q"], Route(("tags", new object?[] { Longstr("a"), 1L })));
        Assert.Empty(Route(("tags", new object?[] { 1L, Longstr("a") })));
        Assert.Empty(Route(("tags", new object?[] { Longstr("a") })));
        Assert.Equal(["q2"], Route(("origin", Headers(("region", Longstr("eu")), ("zone", 2)))));
        Assert.Empty(Route(("origin", Headers(("zone", 2), ("region", Longstr("eu"))))));
        Assert.Empty(Route(("origin", new object?[] { Longstr("eu"), 2 })));
    }

    [Fact]
    public void A_repeated_header_is_matched_by_its_first_occurrence()
    {
        _topology.Bind("match", "q", arguments: new JsonObject { ["k"] = "first" });

        Assert.Equal(["q"], Route(("k", Longstr("first")), ("k", Longstr("second"))));
        Assert.Empty(Route(("k", Longstr("second")), ("k", Longstr("first"))));
    }

    [Fact]
    public void The_routing_key_is_ignored()
    {
        _topology.Bind("match", "q", "some-key", new JsonObject { ["k"] = 1 });

        Assert.Equal(["q"], _topology.Route("match", "another-key", Headers(("k", 1))));
    }

    [Fact]
    public void Each_binding_is_matched_on_its_own_arguments()
    {
        _topology.Queues("q2")
            .Bind("match", "q", arguments: new JsonObject { ["k"] = 1 })
            .Bind("match", "q", arguments: new JsonObject { ["k"] = 2 })
            .Bind("match", "q2", arguments: new JsonObject { ["k"] = 2 });

        Assert.Equal(["q"], Route(("k", 1)));
        Assert.Equal(["q", "q2"], Route(("k", 2)));

        _topology.Table.RemoveBinding(QueueBinding("match", "q", arguments: new JsonObject { ["k"] = 2 }));

        Assert.Equal(["q"], Route(("k", 1)));
        Assert.Equal(["q2"], Route(("k", 2)));
    }

    private string[] Route(params (string Name, object? Value)[] headers) => _topology.Route("match", "", Headers(headers));
}
