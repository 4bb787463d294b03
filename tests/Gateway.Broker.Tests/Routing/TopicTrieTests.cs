using Gateway.Broker.Routing;
using MetaService.Contracts;

namespace Gateway.Broker.Tests.Routing;

public sealed class TopicTrieTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("a", new[] { "a" })]
    [InlineData("a.b", new[] { "a", "b" })]
    [InlineData("a..b", new[] { "a", "", "b" })]
    [InlineData(".", new[] { "", "" })]
    [InlineData("a.", new[] { "a", "" })]
    [InlineData(".a", new[] { "", "a" })]
    public void Splits_keys_into_words_as_RabbitMQ_does(string key, string[] words)
    {
        Assert.Equal(words, TopicTrie.SplitWords(key));
    }

    [Fact]
    public void Removing_every_binding_leaves_an_empty_trie()
    {
        string[] keys = ["#", "a.#.b", "a.*", "a..b", "", "*.#", "a.b.c"];
        var bindings = keys.Select((key, i) => QueueBinding(key, "q" + i)).ToList();
        var trie = bindings.Aggregate(TopicTrie.Empty, (t, b) => t.Add(b));
        Assert.False(trie.IsEmpty);

        trie = bindings.Aggregate(trie, (t, b) => t.Remove(b));

        Assert.True(trie.IsEmpty);
    }

    [Fact]
    public void Removing_an_absent_binding_returns_the_same_trie()
    {
        var trie = TopicTrie.Empty.Add(QueueBinding("a.b", "q"));

        Assert.Same(trie, trie.Remove(QueueBinding("a.c", "q")));
        Assert.Same(trie, trie.Remove(QueueBinding("a.b", "other")));
    }

    [Fact]
    public void Adding_returns_a_new_trie_and_leaves_the_old_one_unchanged()
    {
        var before = TopicTrie.Empty.Add(QueueBinding("a.*", "q1"));

        var after = before.Add(QueueBinding("a.b", "q2"));

        Assert.Equal(["q1"], Match(before, "a.b"));
        Assert.Equal(["q1", "q2"], Match(after, "a.b"));
    }

    internal static Binding QueueBinding(string key, string queue) =>
        new("x", new BindingDestination(queue, BindingDestinationType.Queue), key, "{}");

    internal static string[] Match(TopicTrie trie, string routingKey)
    {
        var destinations = new List<BindingDestination>();
        trie.Match(routingKey, destinations);
        return [.. destinations.Select(d => d.Name).Distinct().Order(StringComparer.Ordinal)];
    }
}
