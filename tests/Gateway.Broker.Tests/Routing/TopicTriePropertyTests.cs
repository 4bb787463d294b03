using CsCheck;
using Gateway.Broker.Routing;

namespace Gateway.Broker.Tests.Routing;

/// <summary>The trie against a plain recursive matcher written straight from RabbitMQ's topic rules.</summary>
public sealed class TopicTriePropertyTests
{
    // Few distinct words (and the empty word) so random patterns and keys collide often.
    private static readonly Gen<string> RoutingKeyWord = Gen.OneOf("a", "b", "c", "");
    private static readonly Gen<string> BindingKeyWord = Gen.OneOf("a", "b", "", "*", "#", "#");
    private static readonly Gen<string> RoutingKey = RoutingKeyWord.Array[0, 6].Select(words => string.Join('.', words));
    private static readonly Gen<string> BindingKey = BindingKeyWord.Array[0, 5].Select(words => string.Join('.', words));

    [Fact]
    public void The_trie_matches_exactly_the_binding_keys_the_reference_accepts()
    {
        Gen.Select(BindingKey.Array[0, 12], RoutingKey.Array[1, 8]).Sample(
            (bindingKeys, routingKeys) =>
            {
                var trie = TopicTrie.Empty;
                for (var i = 0; i < bindingKeys.Length; i++)
                {
                    trie = trie.Add(TopicTrieTests.QueueBinding(bindingKeys[i], QueueName(i)));
                }

                foreach (var routingKey in routingKeys)
                {
                    Assert.Equal(Expected(bindingKeys, routingKey, _ => true), TopicTrieTests.Match(trie, routingKey));
                }
            },
            iter: 5000,
            print: t => $"bindings {Quoted(t.Item1)}, keys {Quoted(t.Item2)}");
    }

    [Fact]
    public void After_adds_and_removes_the_trie_matches_the_remaining_binding_keys()
    {
        Gen.Select(Gen.Select(BindingKey, Gen.Bool).Array[0, 12], RoutingKey.Array[1, 8]).Sample(
            (bindings, routingKeys) =>
            {
                var trie = TopicTrie.Empty;
                for (var i = 0; i < bindings.Length; i++)
                {
                    trie = trie.Add(TopicTrieTests.QueueBinding(bindings[i].Item1, QueueName(i)));
                }

                for (var i = 0; i < bindings.Length; i++)
                {
                    if (bindings[i].Item2)
                    {
                        trie = trie.Remove(TopicTrieTests.QueueBinding(bindings[i].Item1, QueueName(i)));
                    }
                }

                var keys = bindings.Select(b => b.Item1).ToArray();
                foreach (var routingKey in routingKeys)
                {
                    Assert.Equal(Expected(keys, routingKey, i => !bindings[i].Item2), TopicTrieTests.Match(trie, routingKey));
                }

                Assert.Equal(bindings.All(b => b.Item2), trie.IsEmpty);
            },
            iter: 5000,
            print: t => $"bindings {Quoted(t.Item1.Select(b => b.Item1))}, "
                + $"removed [{string.Join(", ", t.Item1.Select(b => b.Item2))}], keys {Quoted(t.Item2)}");
    }

    [Theory]
    [InlineData("#", "")]
    [InlineData("#.#", "a")]
    [InlineData("a.#.b", "a.b")]
    [InlineData("*.*", ".")]
    [InlineData("#.*", "a..b")]
    public void The_reference_itself_accepts_known_matches(string bindingKey, string routingKey)
    {
        Assert.True(ReferenceMatches(bindingKey, routingKey));
    }

    private static string Quoted(IEnumerable<string> keys) => "[" + string.Join(", ", keys.Select(k => $"\"{k}\"")) + "]";

    private static string QueueName(int index) => "q" + index.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    private static string[] Expected(string[] bindingKeys, string routingKey, Func<int, bool> isBound) =>
        [.. Enumerable.Range(0, bindingKeys.Length)
            .Where(i => isBound(i) && ReferenceMatches(bindingKeys[i], routingKey))
            .Select(QueueName)
            .Order(StringComparer.Ordinal)];

    /// <summary>"*" is exactly one word, "#" zero or more, anything else itself; "" has no words.</summary>
    private static bool ReferenceMatches(string bindingKey, string routingKey) =>
        Matches(Words(bindingKey), 0, Words(routingKey), 0);

    private static string[] Words(string key) => key == "" ? [] : key.Split('.');

    private static bool Matches(string[] pattern, int p, string[] words, int w)
    {
        if (p == pattern.Length)
        {
            return w == words.Length;
        }

        if (pattern[p] == "#")
        {
            return Matches(pattern, p + 1, words, w) || (w < words.Length && Matches(pattern, p, words, w + 1));
        }

        return w < words.Length && (pattern[p] == "*" || pattern[p] == words[w]) && Matches(pattern, p + 1, words, w + 1);
    }
}
