using System.Collections.Immutable;

namespace Gateway.Broker.Routing;

/// <summary>
/// A topic exchange's bindings as a trie over binding-key words, the structure of RabbitMQ's
/// rabbit_exchange_type_topic (trie edges labelled by word, "*" or "#", bindings at the node where their
/// key ends), so matching follows only the edges a routing key can take and its cost does not grow with
/// unrelated bindings. The trie is immutable: adding or removing a binding copies the nodes on its path and
/// shares the rest, so a routing snapshot can be read by any number of threads without locks.
/// </summary>
/// <remarks>
/// Words are what RabbitMQ's split_topic_key/1 makes of a key: "" has no words, anything else is split on
/// every '.', keeping empty words ("a..b" is "a", "", "b"; "." is two empty words). "*" matches exactly one
/// word and "#" zero or more, so "#" matches "" while "*" does not.
/// </remarks>
internal sealed class TopicTrie
{
    public static readonly TopicTrie Empty = new(Node.Empty);

    private readonly Node _root;

    private TopicTrie(Node root) => _root = root;

    public bool IsEmpty => _root.IsEmpty;

    public static string[] SplitWords(string key) => key.Length == 0 ? [] : key.Split('.');

    public TopicTrie Add(Binding binding)
    {
        var root = Add(_root, SplitWords(binding.RoutingKey), 0, binding);
        return ReferenceEquals(root, _root) ? this : new TopicTrie(root);
    }

    public TopicTrie Remove(Binding binding)
    {
        var root = Remove(_root, SplitWords(binding.RoutingKey), 0, binding);
        return ReferenceEquals(root, _root) ? this : new TopicTrie(root);
    }

    /// <summary>Adds the destination of every binding whose key matches <paramref name="routingKey"/>.</summary>
    /// <returns>
    /// How many trie nodes the match activated (each node at most once per word position): a measure of
    /// the work done, which depends on the bindings the key can reach and not on how many others exist.
    /// </returns>
    /// <remarks>
    /// RabbitMQ walks the trie depth-first (trie_match/4), which revisits nodes under chains such as
    /// "#.#.#" (every way of splitting the words between the hashes is a separate path). Here the walk is
    /// breadth-first over word positions, keeping the set of nodes reachable after each word, like an NFA
    /// simulation: same trie, same result set, but each node is handled once per position.
    /// </remarks>
    public int Match(string routingKey, ICollection<BindingDestination> destinations)
    {
        var activated = 0;
        var current = new List<Node>();
        var next = new List<Node>();
        var seen = new HashSet<Node>();
        Activate(_root, current, seen, ref activated);
        foreach (var word in SplitWords(routingKey))
        {
            next.Clear();
            seen.Clear();
            foreach (var node in current)
            {
                if (node.Words.TryGetValue(word, out var literal))
                {
                    Activate(literal, next, seen, ref activated);
                }

                if (node.Star is { } star)
                {
                    Activate(star, next, seen, ref activated);
                }

                if (node.IsHash)
                {
                    // The "#" that led here swallows this word too and may swallow more.
                    Activate(node, next, seen, ref activated);
                }
            }

            (current, next) = (next, current);
        }

        foreach (var node in current)
        {
            foreach (var binding in node.Bindings)
            {
                destinations.Add(binding.Destination);
            }
        }

        return activated;
    }

    /// <summary>Makes a node reachable at the current position, with the "#" chain below it, since "#" may match no word.</summary>
    private static void Activate(Node node, List<Node> active, HashSet<Node> seen, ref int activated)
    {
        for (Node? reachable = node; reachable is not null && seen.Add(reachable); reachable = reachable.Hash)
        {
            active.Add(reachable);
            activated++;
        }
    }

    private static Node Add(Node node, string[] words, int depth, Binding binding)
    {
        if (depth == words.Length)
        {
            return node.WithBindings(node.Bindings.Add(binding));
        }

        var word = words[depth];
        var child = node.Child(word) ?? Node.EmptyChild(word);
        return node.WithChild(word, Add(child, words, depth + 1, binding));
    }

    private static Node Remove(Node node, string[] words, int depth, Binding binding)
    {
        if (depth == words.Length)
        {
            return node.WithBindings(node.Bindings.Remove(binding));
        }

        var word = words[depth];
        if (node.Child(word) is not { } child)
        {
            return node;
        }

        // A node left with no bindings and no children is cut off, so removed keys leave nothing behind.
        var updated = Remove(child, words, depth + 1, binding);
        return node.WithChild(word, updated.IsEmpty ? null : updated);
    }

    /// <summary>An immutable trie node. A node is a "#" node when the edge into it is "#".</summary>
    private sealed class Node
    {
        public static readonly Node Empty = new(isHash: false, ImmutableDictionary<string, Node>.Empty, null, null, []);

        private static readonly Node EmptyHash = new(isHash: true, ImmutableDictionary<string, Node>.Empty, null, null, []);

        private Node(bool isHash, ImmutableDictionary<string, Node> words, Node? star, Node? hash, ImmutableHashSet<Binding> bindings)
        {
            IsHash = isHash;
            Words = words;
            Star = star;
            Hash = hash;
            Bindings = bindings;
        }

        public bool IsHash { get; }

        /// <summary>Children by literal word. A routing key's word "*" or "#" is looked up here and finds nothing:
        /// RabbitMQ would follow the wildcard edge, but that edge is taken for every word anyway.</summary>
        public ImmutableDictionary<string, Node> Words { get; }

        public Node? Star { get; }

        public Node? Hash { get; }

        public ImmutableHashSet<Binding> Bindings { get; }

        public bool IsEmpty => Words.IsEmpty && Star is null && Hash is null && Bindings.IsEmpty;

        public static Node EmptyChild(string word) => word == "#" ? EmptyHash : Empty;

        public Node? Child(string word) => word switch
        {
            "*" => Star,
            "#" => Hash,
            _ => Words.GetValueOrDefault(word),
        };

        /// <summary>This node with the child for <paramref name="word"/> replaced, or removed when <paramref name="child"/> is null.</summary>
        public Node WithChild(string word, Node? child)
        {
            if (ReferenceEquals(child, Child(word)))
            {
                return this;
            }

            return word switch
            {
                "*" => new Node(IsHash, Words, child, Hash, Bindings),
                "#" => new Node(IsHash, Words, Star, child, Bindings),
                _ => new Node(IsHash, child is null ? Words.Remove(word) : Words.SetItem(word, child), Star, Hash, Bindings),
            };
        }

        public Node WithBindings(ImmutableHashSet<Binding> bindings) =>
            ReferenceEquals(bindings, Bindings) ? this : new Node(IsHash, Words, Star, Hash, bindings);
    }
}
