using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace Gateway.Broker.Routing;

/// <summary>
/// One exchange's bindings, organised for its type's matching rule. Immutable: Add and Remove return a new
/// index that shares what did not change.
/// </summary>
internal abstract class BindingIndex
{
    public const string Direct = "direct";
    public const string Fanout = "fanout";
    public const string Topic = "topic";
    public const string Headers = "headers";

    /// <summary>The empty index for an exchange type; null for a type the router does not implement.</summary>
    public static BindingIndex? EmptyFor(string exchangeType) => exchangeType switch
    {
        Direct => DirectBindingIndex.Empty,
        Fanout => FanoutBindingIndex.Empty,
        Topic => TopicBindingIndex.Empty,
        Headers => HeadersBindingIndex.Empty,
        _ => null,
    };

    /// <param name="arguments">The binding's arguments, which only the headers type reads.</param>
    public abstract BindingIndex Add(Binding binding, JsonObject? arguments);

    public abstract BindingIndex Remove(Binding binding);

    /// <summary>Adds the destination of every binding that matches the message (duplicates are the caller's to drop).</summary>
    public abstract void Match(RoutedMessage message, List<BindingDestination> destinations);
}

/// <summary>direct: the routing key equals the binding key, a dictionary lookup per key (rabbit_exchange_type_direct).</summary>
internal sealed class DirectBindingIndex : BindingIndex
{
    public static readonly DirectBindingIndex Empty = new(ImmutableDictionary.Create<string, ImmutableHashSet<Binding>>(StringComparer.Ordinal));

    private readonly ImmutableDictionary<string, ImmutableHashSet<Binding>> _byKey;

    private DirectBindingIndex(ImmutableDictionary<string, ImmutableHashSet<Binding>> byKey) => _byKey = byKey;

    public override BindingIndex Add(Binding binding, JsonObject? arguments) =>
        new DirectBindingIndex(_byKey.SetItem(binding.RoutingKey, _byKey.GetValueOrDefault(binding.RoutingKey, []).Add(binding)));

    public override BindingIndex Remove(Binding binding)
    {
        if (!_byKey.TryGetValue(binding.RoutingKey, out var bindings))
        {
            return this;
        }

        var remaining = bindings.Remove(binding);
        return new DirectBindingIndex(remaining.IsEmpty ? _byKey.Remove(binding.RoutingKey) : _byKey.SetItem(binding.RoutingKey, remaining));
    }

    public override void Match(RoutedMessage message, List<BindingDestination> destinations)
    {
        foreach (var key in message.RoutingKeys)
        {
            if (_byKey.TryGetValue(key, out var bindings))
            {
                destinations.AddRange(bindings.Select(b => b.Destination));
            }
        }
    }
}

/// <summary>fanout: every binding, whatever the routing key (rabbit_exchange_type_fanout).</summary>
internal sealed class FanoutBindingIndex : BindingIndex
{
    public static readonly FanoutBindingIndex Empty = new([]);

    private readonly ImmutableHashSet<Binding> _bindings;

    private FanoutBindingIndex(ImmutableHashSet<Binding> bindings) => _bindings = bindings;

    public override BindingIndex Add(Binding binding, JsonObject? arguments) => new FanoutBindingIndex(_bindings.Add(binding));

    public override BindingIndex Remove(Binding binding) => new FanoutBindingIndex(_bindings.Remove(binding));

    public override void Match(RoutedMessage message, List<BindingDestination> destinations) =>
        destinations.AddRange(_bindings.Select(b => b.Destination));
}

/// <summary>topic: wildcard patterns over '.'-separated words, matched through a trie (<see cref="TopicTrie"/>).</summary>
internal sealed class TopicBindingIndex : BindingIndex
{
    public static readonly TopicBindingIndex Empty = new(TopicTrie.Empty);

    private readonly TopicTrie _trie;

    private TopicBindingIndex(TopicTrie trie) => _trie = trie;

    public override BindingIndex Add(Binding binding, JsonObject? arguments) => new TopicBindingIndex(_trie.Add(binding));

    public override BindingIndex Remove(Binding binding) => new TopicBindingIndex(_trie.Remove(binding));

    public override void Match(RoutedMessage message, List<BindingDestination> destinations)
    {
        foreach (var key in message.RoutingKeys)
        {
            // The count of trie nodes visited is a test measure (TopicTrieCostTests), not needed here.
            _ = _trie.Match(key, destinations);
        }
    }
}

/// <summary>
/// headers: every binding's compiled argument pattern is tried against the message headers; the routing
/// key is ignored. Linear in the exchange's bindings, as in RabbitMQ (rabbit_router:match_bindings/2).
/// </summary>
internal sealed class HeadersBindingIndex : BindingIndex
{
    public static readonly HeadersBindingIndex Empty = new(ImmutableDictionary<Binding, HeadersBindingPattern>.Empty);

    private readonly ImmutableDictionary<Binding, HeadersBindingPattern> _patterns;

    private HeadersBindingIndex(ImmutableDictionary<Binding, HeadersBindingPattern> patterns) => _patterns = patterns;

    public override BindingIndex Add(Binding binding, JsonObject? arguments) =>
        new HeadersBindingIndex(_patterns.SetItem(binding, HeadersBindingPattern.Compile(arguments)));

    public override BindingIndex Remove(Binding binding) => new HeadersBindingIndex(_patterns.Remove(binding));

    public override void Match(RoutedMessage message, List<BindingDestination> destinations)
    {
        foreach (var (binding, pattern) in _patterns)
        {
            if (pattern.Matches(message.Headers))
            {
                destinations.Add(binding.Destination);
            }
        }
    }
}
