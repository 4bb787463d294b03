using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetaService.Contracts;

/// <summary>
/// The gateway's graded delayed redelivery, as a policy selects it (our extension; RabbitMQ requeues a
/// nacked message at once). Definition keys:
/// <list type="bullet">
/// <item><c>graded-redelivery</c>: <c>true</c> turns it on for the queues the policy applies to.</item>
/// <item><c>graded-redelivery-delays</c> (optional): the ladder, as a list of durations or one string of
/// them separated by spaces; a duration is milliseconds or a number with <c>ms</c>, <c>s</c>, <c>m</c>,
/// <c>h</c> (<c>"10s 30s 1m"</c>). Default <see cref="DefaultDelays"/>.</item>
/// <item><c>graded-redelivery-limit</c> (optional): returns allowed before the message is dead-lettered;
/// default the ladder's length, so each step is used once.</item>
/// </list>
/// The metadata service refuses a policy whose keys do not parse; the gateway reads them with the same code.
/// </summary>
public sealed record GradedRedeliveryPolicy(IReadOnlyList<TimeSpan> Delays, int DeliveryLimit)
{
    public const string EnabledKey = "graded-redelivery";
    public const string DelaysKey = "graded-redelivery-delays";
    public const string LimitKey = "graded-redelivery-limit";

    /// <summary>10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h.</summary>
    public static IReadOnlyList<TimeSpan> DefaultDelays { get; } =
    [
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30),
        .. Enumerable.Range(1, 10).Select(m => TimeSpan.FromMinutes(m)),
        TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
    ];

    /// <summary>The delay before the redelivery that follows return number <paramref name="returns"/> (1-based); the last step repeats.</summary>
    public TimeSpan DelayAfterReturn(long returns) => Delays[(int)Math.Clamp(returns - 1, 0, Delays.Count - 1)];

    /// <summary>
    /// Reads the policy keys: null when <c>graded-redelivery</c> is absent or false, the settings when it is
    /// true. <see cref="FormatException"/> names the key that does not parse.
    /// </summary>
    public static GradedRedeliveryPolicy? FromDefinition(JsonObject? definition)
    {
        if (definition is null || !definition.TryGetPropertyValue(EnabledKey, out JsonNode? enabled))
        {
            return null;
        }

        if (enabled is not JsonValue flag || flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new FormatException($"'{EnabledKey}' must be true or false");
        }

        if (flag.GetValueKind() == JsonValueKind.False)
        {
            return null;
        }

        IReadOnlyList<TimeSpan> delays = definition[DelaysKey] is { } ladder ? ReadDelays(ladder) : DefaultDelays;
        int limit = delays.Count;
        if (definition[LimitKey] is { } limitNode)
        {
            if (limitNode is not JsonValue limitValue || limitValue.GetValueKind() != JsonValueKind.Number
                || !int.TryParse(limitValue.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                throw new FormatException($"'{LimitKey}' must be a non-negative integer");
            }
        }

        return new GradedRedeliveryPolicy(delays, limit);
    }

    /// <summary>Whether <paramref name="definition"/>'s graded-redelivery keys parse; <paramref name="error"/> says why not.</summary>
    public static bool IsValid(JsonObject? definition, out string? error)
    {
        try
        {
            FromDefinition(definition);
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static List<TimeSpan> ReadDelays(JsonNode ladder)
    {
        IEnumerable<JsonNode?> steps = ladder switch
        {
            JsonArray array => array,
            JsonValue text when text.GetValueKind() == JsonValueKind.String =>
                text.GetValue<string>().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => (JsonNode?)JsonValue.Create(s)),
            _ => throw new FormatException($"'{DelaysKey}' must be a list of durations or a string of them"),
        };
        var delays = new List<TimeSpan>();
        foreach (JsonNode? step in steps)
        {
            delays.Add(step is JsonValue value ? ReadDuration(value) : throw new FormatException($"'{DelaysKey}' has a step that is not a duration"));
        }

        return delays.Count > 0 ? delays : throw new FormatException($"'{DelaysKey}' needs at least one step");
    }

    private static TimeSpan ReadDuration(JsonValue value)
    {
        if (value.GetValueKind() == JsonValueKind.Number && long.TryParse(value.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        string text = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>().Trim() : "";
        (string digits, double unitMs) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1d),
            _ when text.EndsWith('s') => (text[..^1], 1_000d),
            _ when text.EndsWith('m') => (text[..^1], 60_000d),
            _ when text.EndsWith('h') => (text[..^1], 3_600_000d),
            _ => (text, 1d),
        };
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long amount)
            ? TimeSpan.FromMilliseconds(amount * unitMs)
            : throw new FormatException($"'{DelaysKey}' has a step '{text}' that is not a duration such as 500ms, 10s, 1m or 2h");
    }
}
