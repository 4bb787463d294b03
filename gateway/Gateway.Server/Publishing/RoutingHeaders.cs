using Gateway.Protocol.Types;

namespace Gateway.Server.Publishing;

/// <summary>
/// The codec's header values as the routing library takes them (docs/routing.md): plain .NET values,
/// with AMQP's binary, decimal and timestamp structs mapped to byte[], decimal and DateTimeOffset,
/// tables and arrays converted element by element.
/// </summary>
internal static class RoutingHeaders
{
    public static IEnumerable<KeyValuePair<string, object?>>? From(FieldTable? headers) =>
        headers is null ? null : headers.Select(entry => new KeyValuePair<string, object?>(entry.Key, Convert(entry.Value))).ToList();

    private static object? Convert(object? value) => value switch
    {
        AmqpBinary binary => binary.Bytes,
        AmqpDecimal d => d.ToDecimal(),
        AmqpTimestamp t => DateTimeOffset.FromUnixTimeSeconds(t.UnixSeconds),
        FieldTable table => From(table),
        IEnumerable<object?> array => array.Select(Convert).ToList(),
        _ => value,
    };
}
