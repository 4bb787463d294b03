using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Gateway.Broker.Delays;
using MetaService.Contracts;

namespace Gateway.Broker.Routing;

/// <summary>An exchange as routing needs it: the properties that steer a publish, and its bindings. Immutable.</summary>
internal sealed class ExchangeRoutes
{
    private const string AlternateExchangeArgument = "alternate-exchange";

    private readonly BindingIndex _index;

    private ExchangeRoutes(
        string name,
        string type,
        bool isInternal,
        string? alternateExchange,
        ImmutableHashSet<Binding> bindings,
        BindingIndex index,
        bool isDelayed = false)
    {
        IsDelayed = isDelayed;
        Name = name;
        Type = type;
        IsInternal = isInternal;
        AlternateExchange = alternateExchange;
        Bindings = bindings;
        _index = index;
    }

    public string Name { get; }

    public string Type { get; }

    /// <summary>Clients may not publish to it (403); exchange-to-exchange bindings and alternate exchanges still route through it.</summary>
    public bool IsInternal { get; }

    /// <summary>
    /// The "alternate-exchange" argument: where a message goes when none of this exchange's bindings match.
    /// The metadata store refuses a value that is not a string, as RabbitMQ does at declare.
    /// </summary>
    public string? AlternateExchange { get; }

    /// <summary>
    /// An x-delayed-message exchange (the delayed message plugin's type): it routes by its x-delayed-type's rules, and a
    /// message published to it with a positive x-delay matches nothing now and is routed when due (see Delays/).
    /// </summary>
    public bool IsDelayed { get; }

    /// <summary>The bindings this exchange is the source of.</summary>
    public ImmutableHashSet<Binding> Bindings { get; }

    /// <exception cref="ArgumentException">The exchange type is not one the router implements.</exception>
    public static ExchangeRoutes Create(ExchangeRecord exchange)
    {
        bool isDelayed = exchange.Type == DelayedMessageExchange.TypeName;
        // The delayed exchange is a proxy for its x-delayed-type (rabbit_exchange_type_delayed_message routes with that module).
        string routingType = isDelayed ? DelayedTypeOf(exchange) ?? "" : exchange.Type;
        var index = BindingIndex.EmptyFor(routingType)
            ?? throw new ArgumentException(
                $"exchange type '{exchange.Type}' of exchange '{exchange.Name}' is not one the router implements",
                nameof(exchange));
        return new ExchangeRoutes(exchange.Name, exchange.Type, exchange.Internal, AlternateExchangeOf(exchange), [], index, isDelayed);
    }

    /// <summary>
    /// The same exchange with updated properties (an upsert from the metadata feed) and its bindings kept.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The type differs: RabbitMQ refuses such a redeclare (406), and deleting the exchange would have
    /// deleted its bindings first, so the table and its source disagree.
    /// </exception>
    public ExchangeRoutes WithProperties(ExchangeRecord exchange)
    {
        if (exchange.Type != Type)
        {
            throw new InvalidOperationException(
                $"exchange '{Name}' is routed as '{Type}' and cannot become '{exchange.Type}' without being removed first");
        }

        return new ExchangeRoutes(Name, Type, exchange.Internal, AlternateExchangeOf(exchange), Bindings, _index, IsDelayed);
    }

    public ExchangeRoutes WithBinding(Binding binding, JsonObject? arguments) =>
        Bindings.Contains(binding)
            ? this
            : new ExchangeRoutes(Name, Type, IsInternal, AlternateExchange, Bindings.Add(binding), _index.Add(binding, arguments), IsDelayed);

    public ExchangeRoutes WithoutBinding(Binding binding) =>
        Bindings.Contains(binding)
            ? new ExchangeRoutes(Name, Type, IsInternal, AlternateExchange, Bindings.Remove(binding), _index.Remove(binding), IsDelayed)
            : this;

    /// <summary>This exchange's own matches: what RabbitMQ's exchange type module returns from route/2.</summary>
    public void Match(RoutedMessage message, List<BindingDestination> destinations) => _index.Match(message, destinations);

    private static string? DelayedTypeOf(ExchangeRecord exchange) =>
        exchange.Arguments?[DelayedMessageExchange.DelayedTypeArgument] is JsonValue value && value.TryGetValue(out string? type) ? type : null;

    private static string? AlternateExchangeOf(ExchangeRecord exchange) =>
        exchange.Arguments?[AlternateExchangeArgument] is JsonValue value && value.TryGetValue(out string? name) ? name : null;
}
