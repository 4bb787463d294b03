namespace Gateway.Broker.Tests.Routing;

public sealed class TopicExchangeTests
{
    private readonly Topology _topology = new Topology()
        .Exchange("logs", "topic")
        .Queues("q", "q2");

    [Theory]
    // "#" matches zero or more words, so everything, including the key with no words.
    [InlineData("#", "", true)]
    [InlineData("#", "a", true)]
    [InlineData("#", "a.b.c", true)]
    [InlineData("#", ".", true)]
    [InlineData("#", "a..b", true)]
    // "*" matches exactly one word; "" has none (RabbitMQ's split_topic_key(<<>>) is []), "." has two empty ones.
    [InlineData("*", "", false)]
    [InlineData("*", "a", true)]
    [InlineData("*", "a.b", false)]
    [InlineData("*", ".", false)]
    [InlineData("*.*", ".", true)]
    [InlineData("*.*", "a.", true)]
    // Chains of wildcards.
    [InlineData("#.#", "", true)]
    [InlineData("#.#", "a", true)]
    [InlineData("#.#", "a.b.c", true)]
    [InlineData("*.#", "", false)]
    [InlineData("*.#", "a", true)]
    [InlineData("*.#", "a.b", true)]
    [InlineData("#.*", "", false)]
    [InlineData("#.*", "a", true)]
    [InlineData("#.*", "a.b.c", true)]
    [InlineData("*.*.#", "a", false)]
    [InlineData("*.*.#", "a.b", true)]
    // "#" between literals.
    [InlineData("a.#.b", "a.b", true)]
    [InlineData("a.#.b", "a.x.b", true)]
    [InlineData("a.#.b", "a.x.y.b", true)]
    [InlineData("a.#.b", "a", false)]
    [InlineData("a.#.b", "a.b.c", false)]
    [InlineData("a.#.b", "b.a.b", false)]
    [InlineData("a.#", "a", true)]
    [InlineData("#.a", "a", true)]
    [InlineData("#.a.#", "a", true)]
    [InlineData("#.a.#", "b.a.c", true)]
    [InlineData("#.a.#", "b.c", false)]
    [InlineData("#.b.#.d", "a.b.c.d", true)]
    [InlineData("#.b.#.d", "a.b.c.d.e", false)]
    // Empty words are words.
    [InlineData("a..b", "a..b", true)]
    [InlineData("a.*.b", "a..b", true)]
    [InlineData("a.b", "a..b", false)]
    [InlineData("a.*", "a.", true)]
    [InlineData("a.*", "a", false)]
    [InlineData(".", ".", true)]
    [InlineData(".", "", false)]
    [InlineData("*.", "a.", true)]
    // The empty binding key has no words: it matches only the empty routing key.
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("", ".", false)]
    // Literals are exact and case-sensitive; wildcard characters in a routing key are ordinary words.
    [InlineData("a.b.c", "a.b.c", true)]
    [InlineData("a.b", "a.b.c", false)]
    [InlineData("a.b.c", "a.b", false)]
    [InlineData("a.b", "A.b", false)]
    [InlineData("a.*", "a.*", true)]
    [InlineData("a.b", "a.*", false)]
    [InlineData("a.#", "a.#", true)]
    [InlineData("a.b", "a.#", false)]
    [InlineData("a*.b", "ax.b", false)]
    [InlineData("a*.b", "a*.b", true)]
    public void Matches_like_RabbitMQ(string bindingKey, string routingKey, bool matches)
    {
        _topology.Bind("logs", "q", bindingKey);

        Assert.Equal(matches ? ["q"] : [], _topology.Route("logs", routingKey));
    }

    [Fact]
    public void A_queue_reached_by_several_patterns_receives_the_message_once()
    {
        _topology.Bind("logs", "q", "#").Bind("logs", "q", "*.error").Bind("logs", "q", "app.error").Bind("logs", "q2", "app.*");

        Assert.Equal(["q", "q2"], _topology.Route("logs", "app.error"));
    }

    [Fact]
    public void Bindings_on_the_same_pattern_are_kept_apart()
    {
        _topology.Bind("logs", "q", "app.*").Bind("logs", "q2", "app.*");

        _topology.Table.RemoveBinding(Topology.QueueBinding("logs", "q", "app.*"));

        Assert.Equal(["q2"], _topology.Route("logs", "app.x"));
    }

    [Fact]
    public void A_removed_pattern_no_longer_matches_but_its_neighbours_do()
    {
        _topology.Bind("logs", "q", "a.#").Bind("logs", "q2", "a.#.b");

        _topology.Table.RemoveBinding(Topology.QueueBinding("logs", "q", "a.#"));

        Assert.Equal(["q2"], _topology.Route("logs", "a.x.b"));
        Assert.Empty(_topology.Route("logs", "a.x"));
    }
}
