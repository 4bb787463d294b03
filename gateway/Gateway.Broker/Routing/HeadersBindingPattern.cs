using System.Text.Json.Nodes;

namespace Gateway.Broker.Routing;

/// <summary>
/// A headers-exchange binding's arguments, compiled once when the binding is added, with RabbitMQ 3.10+'s
/// rules (rabbit_exchange_type_headers):
/// <list type="bullet">
/// <item>x-match is all (the default, also for an unknown value: parse_x_match/1 falls back to all), any,
/// all-with-x or any-with-x.</item>
/// <item>x-match itself never takes part; other arguments starting with "x-" take part only with the
/// -with-x variants.</item>
/// <item>An argument whose value is void (JSON null) asks only that the header be present, whatever its value;
/// any other argument asks for an equal value (<see cref="HeaderValues.RabbitEquals"/>).</item>
/// <item>all with no arguments left matches every message; any with none left matches none.</item>
/// </list>
/// </summary>
internal sealed class HeadersBindingPattern
{
    private const string MatchArgument = "x-match";

    private readonly bool _matchAny;
    private readonly Condition[] _conditions;

    private HeadersBindingPattern(bool matchAny, Condition[] conditions)
    {
        _matchAny = matchAny;
        _conditions = conditions;
    }

    public static HeadersBindingPattern Compile(JsonObject? arguments)
    {
        var mode = arguments?[MatchArgument] is JsonValue value && value.TryGetValue(out string? text) ? text : "all";
        var matchAny = mode is "any" or "any-with-x";
        var includeX = mode is "all-with-x" or "any-with-x";
        var conditions = (arguments ?? [])
            .Where(p => p.Key != MatchArgument && (includeX || !p.Key.StartsWith("x-", StringComparison.Ordinal)))
            .Select(p => new Condition(p.Key, PresenceOnly: p.Value is null, HeaderValues.FromJson(p.Value)))
            .ToArray();
        return new HeadersBindingPattern(matchAny, conditions);
    }

    /// <param name="headers">The message's headers by name (see <see cref="RoutedMessage.Headers"/>).</param>
    public bool Matches(IReadOnlyDictionary<string, object?> headers)
    {
        foreach (var condition in _conditions)
        {
            var met = headers.TryGetValue(condition.Header, out var actual)
                && (condition.PresenceOnly || HeaderValues.RabbitEquals(condition.Value, actual));
            if (met == _matchAny)
            {
                // any: the first condition met decides; all: the first one not met does.
                return met;
            }
        }

        return !_matchAny;
    }

    private readonly record struct Condition(string Header, bool PresenceOnly, object? Value);
}
