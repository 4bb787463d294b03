namespace MetaService.Core.Model;

/// <summary>
/// A binding from a source exchange to a queue or exchange. RabbitMQ tells bindings apart by all of
/// (source, destination, kind, routing key, arguments); the arguments take part in the unique key
/// through <see cref="ArgumentsHash"/>, a hash of their canonical JSON.
/// </summary>
public sealed class Binding
{
    public long Id { get; set; }

    public string VirtualHost { get; set; } = "";

    public string Source { get; set; } = "";

    public string Destination { get; set; } = "";

    /// <summary>"queue" or "exchange".</summary>
    public string DestinationType { get; set; } = "";

    public string RoutingKey { get; set; } = "";

    /// <summary>The binding arguments as canonical JSON (keys sorted).</summary>
    public string Arguments { get; set; } = "{}";

    /// <summary>Lower-case hex SHA-256 of <see cref="Arguments"/>.</summary>
    public string ArgumentsHash { get; set; } = "";
}
