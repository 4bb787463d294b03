using System.Collections.Immutable;
using Gateway.Broker.Delays;
using MetaService.Contracts;

namespace Gateway.Broker.Routing;

/// <summary>
/// One virtual host's exchanges, queues and bindings at one moment. Immutable: every change returns a new
/// snapshot sharing the unchanged parts (immutable collections, path-copied tries), so publishers route on
/// whichever snapshot they read without locks while <see cref="VirtualHostRoutingTable"/> swaps in the next.
/// </summary>
internal sealed class RoutingSnapshot
{
    public static readonly RoutingSnapshot Empty = new(
        ImmutableDictionary.Create<string, ExchangeRoutes>(StringComparer.Ordinal),
        ImmutableHashSet.Create<string>(StringComparer.Ordinal),
        ImmutableDictionary<BindingDestination, ImmutableHashSet<Binding>>.Empty);

    private readonly ImmutableDictionary<string, ExchangeRoutes> _exchanges;

    /// <summary>Queue names: the default exchange routes only to queues that exist.</summary>
    private readonly ImmutableHashSet<string> _queues;

    /// <summary>Bindings by destination, so deleting a queue or exchange finds the bindings that lead to it.</summary>
    private readonly ImmutableDictionary<BindingDestination, ImmutableHashSet<Binding>> _bindingsByDestination;

    private RoutingSnapshot(
        ImmutableDictionary<string, ExchangeRoutes> exchanges,
        ImmutableHashSet<string> queues,
        ImmutableDictionary<BindingDestination, ImmutableHashSet<Binding>> bindingsByDestination)
    {
        _exchanges = exchanges;
        _queues = queues;
        _bindingsByDestination = bindingsByDestination;
    }

    public RoutingSnapshot WithExchange(ExchangeRecord exchange)
    {
        var routes = _exchanges.TryGetValue(exchange.Name, out var existing)
            ? existing.WithProperties(exchange)
            : ExchangeRoutes.Create(exchange);
        return new RoutingSnapshot(_exchanges.SetItem(exchange.Name, routes), _queues, _bindingsByDestination);
    }

    /// <summary>Removes the exchange with the bindings it is the source or the destination of, as RabbitMQ deletes them.</summary>
    public RoutingSnapshot WithoutExchange(string name)
    {
        if (!_exchanges.TryGetValue(name, out var exchange))
        {
            return this;
        }

        var snapshot = WithoutBindings(exchange.Bindings).WithoutBindings(BindingsTo(BindingDestination.Exchange(name)));
        return new RoutingSnapshot(snapshot._exchanges.Remove(name), snapshot._queues, snapshot._bindingsByDestination);
    }

    public RoutingSnapshot WithQueue(string name) => new(_exchanges, _queues.Add(name), _bindingsByDestination);

    /// <summary>Removes the queue with the bindings that lead to it.</summary>
    public RoutingSnapshot WithoutQueue(string name)
    {
        var snapshot = WithoutBindings(BindingsTo(BindingDestination.Queue(name)));
        return new RoutingSnapshot(snapshot._exchanges, snapshot._queues.Remove(name), snapshot._bindingsByDestination);
    }

    /// <exception cref="ArgumentException">The binding involves the default exchange, which cannot be bound.</exception>
    /// <exception cref="InvalidOperationException">The source or the destination is not in the table.</exception>
    public RoutingSnapshot WithBinding(BindingRecord record)
    {
        if (record.Source.Length == 0 || (record.DestinationType == BindingDestinationType.Exchange && record.Destination.Length == 0))
        {
            throw new ArgumentException("the default exchange cannot be bound to or from (RabbitMQ refuses it with 403)", nameof(record));
        }

        var binding = Binding.From(record);
        if (!_exchanges.TryGetValue(binding.Source, out var source))
        {
            throw new InvalidOperationException($"binding source exchange '{binding.Source}' is not in the routing table");
        }

        var destinationExists = binding.Destination.Type == BindingDestinationType.Queue
            ? _queues.Contains(binding.Destination.Name)
            : _exchanges.ContainsKey(binding.Destination.Name);
        if (!destinationExists)
        {
            var kind = binding.Destination.Type == BindingDestinationType.Queue ? "queue" : "exchange";
            throw new InvalidOperationException($"binding destination {kind} '{binding.Destination.Name}' is not in the routing table");
        }

        var updated = source.WithBinding(binding, record.Arguments);
        return ReferenceEquals(updated, source)
            ? this
            : new RoutingSnapshot(
                _exchanges.SetItem(source.Name, updated),
                _queues,
                _bindingsByDestination.SetItem(binding.Destination, BindingsTo(binding.Destination).Add(binding)));
    }

    /// <summary>Removes the binding if present; like RabbitMQ's unbind, a missing one is not an error.</summary>
    public RoutingSnapshot WithoutBinding(BindingRecord record) => WithoutBinding(Binding.From(record));

    /// <summary>
    /// Routes a publish: the default exchange sends to the queue named by each routing key; any other
    /// exchange runs <see cref="RouteThroughExchanges"/>.
    /// </summary>
    /// <param name="delay">
    /// Honour x-delay on an x-delayed-message exchange (a client's publish): a delayed message then matches none of the
    /// exchange's own bindings now (only its alternate exchange, as with the plugin) and the result carries the delay.
    /// </param>
    public RoutingResult Route(string exchangeName, string routingKey, IEnumerable<KeyValuePair<string, object?>>? headers, bool delay = false)
    {
        ExchangeRoutes? exchange = null;
        if (exchangeName.Length != 0 && !_exchanges.TryGetValue(exchangeName, out exchange))
        {
            return RoutingResult.ExchangeNotFound;
        }

        var isInternal = exchange?.IsInternal ?? false;
        if (!SenderSelectedRouting.TryReadRoutingKeys(routingKey, headers, out var routingKeys, out var hasBcc, out var invalidReason))
        {
            return RoutingResult.InvalidRoutingHeader(isInternal, invalidReason);
        }

        var queues = new HashSet<string>(StringComparer.Ordinal);
        // rabbit_exchange_type_delayed_message:route returns no destinations for a message it delays, so the
        // exchange's alternate exchange (if any) takes it now and the channel sees it unroutable (mandatory returns it).
        long? delayed = delay && exchange is { IsDelayed: true } ? DelayedMessageExchange.DelayOf(headers) : null;
        if (exchange is null)
        {
            queues.UnionWith(routingKeys.Where(_queues.Contains));
        }
        else
        {
            RouteThroughExchanges(exchange, new RoutedMessage(routingKeys, headers), queues, startMatchesNothing: delayed is not null);
        }

        return RoutingResult.Routed(isInternal, queues, hasBcc, delayed);
    }

    /// <summary>
    /// rabbit_exchange:route1/4: a work list of exchanges, starting with the one published to. Each
    /// exchange matches its own bindings; queue destinations are collected, exchange destinations join the
    /// work list unless already seen during this publish, so every exchange is routed at most once and
    /// exchange-to-exchange cycles end. An exchange whose own bindings match nothing (queue or exchange)
    /// hands the message to its alternate exchange, which is then just another exchange destination: it is
    /// subject to the same seen check, may have its own alternate, and is skipped if it does not exist.
    /// An exchange binding that matched counts as a match even if everything after it routes nowhere.
    /// </summary>
    private void RouteThroughExchanges(ExchangeRoutes start, RoutedMessage message, HashSet<string> queues, bool startMatchesNothing = false)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { start.Name };
        var pending = new Stack<ExchangeRoutes>();
        pending.Push(start);
        var destinations = new List<BindingDestination>();
        while (pending.TryPop(out var exchange))
        {
            destinations.Clear();
            if (!(startMatchesNothing && exchange == start))
            {
                exchange.Match(message, destinations);
            }

            if (destinations.Count == 0 && exchange.AlternateExchange is { } alternate)
            {
                destinations.Add(BindingDestination.Exchange(alternate));
            }

            foreach (var destination in destinations)
            {
                if (destination.Type == BindingDestinationType.Queue)
                {
                    queues.Add(destination.Name);
                }
                else if (seen.Add(destination.Name) && _exchanges.TryGetValue(destination.Name, out var next))
                {
                    pending.Push(next);
                }
            }
        }
    }

    private ImmutableHashSet<Binding> BindingsTo(BindingDestination destination) =>
        _bindingsByDestination.GetValueOrDefault(destination, []);

    private RoutingSnapshot WithoutBindings(IEnumerable<Binding> bindings) =>
        bindings.Aggregate(this, (snapshot, binding) => snapshot.WithoutBinding(binding));

    private RoutingSnapshot WithoutBinding(Binding binding)
    {
        if (!_exchanges.TryGetValue(binding.Source, out var source) || !source.Bindings.Contains(binding))
        {
            return this;
        }

        var remaining = BindingsTo(binding.Destination).Remove(binding);
        return new RoutingSnapshot(
            _exchanges.SetItem(source.Name, source.WithoutBinding(binding)),
            _queues,
            remaining.IsEmpty
                ? _bindingsByDestination.Remove(binding.Destination)
                : _bindingsByDestination.SetItem(binding.Destination, remaining));
    }
}
