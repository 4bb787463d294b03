using System.Text;
using System.Text.Json.Nodes;
using Gateway.Broker.Routing;
using MetaService.Contracts;

namespace Gateway.Broker.Tests.Routing;

/// <summary>Builds a routing table the way the metadata feed would fill it, and routes with terse assertions.</summary>
internal sealed class Topology
{
    public const string VirtualHost = "/";

    public VirtualHostRoutingTable Table { get; } = new(VirtualHost);

    public static ExchangeRecord ExchangeRecord(string name, string type, bool isInternal = false, string? alternateExchange = null)
    {
        var arguments = new JsonObject();
        if (alternateExchange is not null)
        {
            arguments["alternate-exchange"] = alternateExchange;
        }

        return new ExchangeRecord(VirtualHost, name, type, Durable: true, AutoDelete: false, isInternal, arguments);
    }

    public static BindingRecord QueueBinding(string source, string queue, string routingKey = "", JsonObject? arguments = null) =>
        new(VirtualHost, source, queue, BindingDestinationType.Queue, routingKey, arguments ?? []);

    public static BindingRecord ExchangeBinding(string source, string destination, string routingKey = "", JsonObject? arguments = null) =>
        new(VirtualHost, source, destination, BindingDestinationType.Exchange, routingKey, arguments ?? []);

    /// <summary>A longstr header value as the codec decodes it.</summary>
    public static byte[] Longstr(string text) => Encoding.UTF8.GetBytes(text);

    public static KeyValuePair<string, object?>[] Headers(params (string Name, object? Value)[] headers) =>
        [.. headers.Select(h => new KeyValuePair<string, object?>(h.Name, h.Value))];

    public Topology Exchange(string name, string type, bool isInternal = false, string? alternateExchange = null)
    {
        Table.AddExchange(ExchangeRecord(name, type, isInternal, alternateExchange));
        return this;
    }

    public Topology Queues(params string[] names)
    {
        foreach (var name in names)
        {
            Table.AddQueue(name);
        }

        return this;
    }

    public Topology Bind(string source, string queue, string routingKey = "", JsonObject? arguments = null)
    {
        Table.AddBinding(QueueBinding(source, queue, routingKey, arguments));
        return this;
    }

    public Topology BindExchange(string source, string destination, string routingKey = "", JsonObject? arguments = null)
    {
        Table.AddBinding(ExchangeBinding(source, destination, routingKey, arguments));
        return this;
    }

    /// <summary>Routes a publish that must succeed and returns its queues in name order.</summary>
    public string[] Route(string exchange, string routingKey = "", IEnumerable<KeyValuePair<string, object?>>? headers = null)
    {
        var result = Table.Route(exchange, routingKey, headers);
        Assert.Equal(RouteStatus.Routed, result.Status);
        return [.. result.Queues.Order(StringComparer.Ordinal)];
    }
}
