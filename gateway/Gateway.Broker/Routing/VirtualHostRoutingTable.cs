using MetaService.Contracts;

namespace Gateway.Broker.Routing;

/// <summary>
/// The publish-time routing of one virtual host, with RabbitMQ's semantics: direct, fanout, topic and
/// headers exchanges, the default exchange, exchange-to-exchange bindings, alternate exchanges, internal
/// exchanges and CC/BCC. Design: docs/routing.md.
/// </summary>
/// <remarks>
/// Thread safety: <see cref="Route"/> may be called from any number of threads without locking; it reads
/// the current immutable snapshot of the table. Changes are serialised by a lock and publish a new
/// snapshot, so a route sees each change entirely or not at all. Changes are expected to come from one
/// follower of the metadata change feed in feed order: a binding after its source and destination, a
/// removal of a queue or exchange also removing the bindings that involve it.
/// </remarks>
public sealed class VirtualHostRoutingTable
{
    private readonly Lock _writeLock = new();
    private volatile RoutingSnapshot _snapshot = RoutingSnapshot.Empty;

    public VirtualHostRoutingTable(string virtualHost)
    {
        ArgumentNullException.ThrowIfNull(virtualHost);
        VirtualHost = virtualHost;
    }

    public string VirtualHost { get; }

    /// <summary>Adds an exchange, or updates the properties of an existing one (its bindings stay).</summary>
    /// <exception cref="ArgumentException">
    /// Another vhost; the default exchange "" (implicit, never declared); or a type the router does not implement.
    /// </exception>
    /// <exception cref="InvalidOperationException">The exchange exists with another type.</exception>
    public void AddExchange(ExchangeRecord exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        RequireThisVirtualHost(exchange.VirtualHost, nameof(exchange));
        if (exchange.Name.Length == 0)
        {
            throw new ArgumentException("the default exchange is implicit in every vhost and cannot be added", nameof(exchange));
        }

        Update(snapshot => snapshot.WithExchange(exchange));
    }

    /// <summary>Removes an exchange and every binding it is the source or destination of; a missing one is ignored.</summary>
    public void RemoveExchange(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Update(snapshot => snapshot.WithoutExchange(name));
    }

    /// <summary>Adds a queue, which the default exchange can then route to and bindings can lead to.</summary>
    public void AddQueue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Update(snapshot => snapshot.WithQueue(name));
    }

    /// <summary>Removes a queue and every binding to it; a missing one is ignored.</summary>
    public void RemoveQueue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Update(snapshot => snapshot.WithoutQueue(name));
    }

    /// <summary>Adds a binding; adding one that exists (same source, destination, key and arguments) changes nothing.</summary>
    /// <exception cref="ArgumentException">Another vhost, or the default exchange as source or destination.</exception>
    /// <exception cref="InvalidOperationException">The source exchange or the destination is not in the table.</exception>
    public void AddBinding(BindingRecord binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        RequireThisVirtualHost(binding.VirtualHost, nameof(binding));
        Update(snapshot => snapshot.WithBinding(binding));
    }

    /// <summary>Removes a binding identified by source, destination, key and arguments; a missing one is ignored.</summary>
    public void RemoveBinding(BindingRecord binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        RequireThisVirtualHost(binding.VirtualHost, nameof(binding));
        Update(snapshot => snapshot.WithoutBinding(binding));
    }

    /// <summary>Routes one publish.</summary>
    /// <param name="exchange">The exchange published to; "" is the default exchange.</param>
    /// <param name="routingKey">The publish's routing key.</param>
    /// <param name="headers">
    /// The message's headers property in wire order, or null. Values are plain .NET values: longstr as
    /// byte[] or string, the integer types, float, double, decimal, DateTimeOffset for timestamps, bool,
    /// null for void, tables as key/value sequences and arrays as object sequences (docs/routing.md).
    /// The codec's FieldTable fits once its binary, decimal and timestamp structs are mapped to these.
    /// </param>
    /// <param name="delay">
    /// A client's publish: honour x-delay on an x-delayed-message exchange (see <see cref="RoutingResult.DelayMilliseconds"/>).
    /// Other callers (dead-lettering, a due delayed message) route through its bindings at once.
    /// </param>
    public RoutingResult Route(string exchange, string routingKey, IEnumerable<KeyValuePair<string, object?>>? headers, bool delay = false)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        return _snapshot.Route(exchange, routingKey, headers, delay);
    }

    private void Update(Func<RoutingSnapshot, RoutingSnapshot> change)
    {
        lock (_writeLock)
        {
            _snapshot = change(_snapshot);
        }
    }

    private void RequireThisVirtualHost(string virtualHost, string parameterName)
    {
        if (virtualHost != VirtualHost)
        {
            throw new ArgumentException($"a record of vhost '{virtualHost}' given to the routing table of vhost '{VirtualHost}'", parameterName);
        }
    }
}
