using Gateway.Broker.Routing;

namespace Gateway.Broker.Tests.Routing;

/// <summary>
/// Routing cost measured in trie nodes activated (TopicTrie.Match's count), not in time: a topic
/// exchange with many bindings must cost a publish only the nodes its key can reach.
/// </summary>
public sealed class TopicTrieCostTests
{
    private const int UnrelatedBindings = 100_000;

    private static readonly string[] RelatedKeys = ["orders.*.created", "orders.#", "#.created", "*.eu.*", "orders.eu.created"];

    [Fact]
    public void One_hundred_thousand_unrelated_bindings_add_no_work_to_a_route()
    {
        var trie = RelatedKeys
            .Select((key, i) => TopicTrieTests.QueueBinding(key, "related" + i))
            .Aggregate(TopicTrie.Empty, (t, b) => t.Add(b));
        var before = trie.Match("orders.eu.created", []);

        for (var i = 0; i < UnrelatedBindings; i++)
        {
            // Unrelated at the first word, or sharing the key's path and leaving it at the last word.
            var key = (i % 3) switch
            {
                0 => $"tenant{i}.orders.#",
                1 => $"tenant{i}.*.created",
                _ => $"orders.eu.created{i}.#",
            };
            trie = trie.Add(TopicTrieTests.QueueBinding(key, "unrelated" + i));
        }

        var destinations = new List<BindingDestination>();
        var after = trie.Match("orders.eu.created", destinations);

        Assert.Equal(before, after);
        // Root and its "#" (2); after "orders": orders, orders.#, *, # (4); after "eu": orders.eu,
        // orders.*, orders.#, *.eu, # (5); after "created": the five pattern ends and # (6).
        Assert.Equal(17, after);
        Assert.Equal(
            RelatedKeys.Select((_, i) => "related" + i),
            destinations.Select(d => d.Name).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_chain_of_hashes_costs_at_most_each_node_once_per_word()
    {
        // A depth-first walk tries every way of sharing the words among the hashes: for 8 hashes and
        // 100 words that is C(108, 8), about 4e11 paths. Each of the 9 nodes is activated at most once per position.
        var trie = TopicTrie.Empty.Add(TopicTrieTests.QueueBinding("#.#.#.#.#.#.#.#", "q"));
        var routingKey = string.Join('.', Enumerable.Range(0, 100).Select(i => "w" + i));

        var destinations = new List<BindingDestination>();
        var activated = trie.Match(routingKey, destinations);

        Assert.Equal("q", Assert.Single(destinations.Distinct()).Name);
        Assert.InRange(activated, 1, 9 * 101);
    }
}
