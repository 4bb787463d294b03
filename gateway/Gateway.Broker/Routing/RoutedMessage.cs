namespace Gateway.Broker.Routing;

/// <summary>What routing reads from one published message: its routing keys and, for headers exchanges, its headers.</summary>
internal sealed class RoutedMessage
{
    private readonly IEnumerable<KeyValuePair<string, object?>>? _headers;
    private Dictionary<string, object?>? _headersByName;

    public RoutedMessage(IReadOnlyList<string> routingKeys, IEnumerable<KeyValuePair<string, object?>>? headers)
    {
        RoutingKeys = routingKeys;
        _headers = headers;
    }

    /// <summary>The publish's routing key followed by the CC and BCC keys (<see cref="SenderSelectedRouting"/>).</summary>
    public IReadOnlyList<string> RoutingKeys { get; }

    /// <summary>
    /// The headers by name, built on first use (only headers exchanges need it). When a name repeats, the
    /// first occurrence counts: RabbitMQ's headers exchange merges a stably sorted table, so a binding
    /// argument meets the first header of its name and the rest are skipped.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Headers => _headersByName ??= IndexByName(_headers);

    private static Dictionary<string, object?> IndexByName(IEnumerable<KeyValuePair<string, object?>>? headers)
    {
        var byName = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in headers ?? [])
        {
            byName.TryAdd(name, value);
        }

        return byName;
    }
}
