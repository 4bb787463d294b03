using Controller.Service.Cluster;
using Controller.Service.Hosting;
using Microsoft.Extensions.Primitives;

namespace Controller.Service.Apis;

/// <summary>Checks shared by the routes; each failure is a <see cref="BadRequestException"/> whose text says what to fix.</summary>
internal static class Requests
{
    /// <summary>Names longer than AMQP's shortstr (255 bytes) cannot be real vhosts, queues or exchanges.</summary>
    private const int MaxNameLength = 255;

    public static string RequiredName(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new BadRequestException($"{field} is required and must not be empty");
        }

        return value.Length <= MaxNameLength ? value : throw new BadRequestException($"{field} is longer than {MaxNameLength} characters");
    }

    public static string? OptionalName(string? value, string field) =>
        value is null || value.Length <= MaxNameLength ? value : throw new BadRequestException($"{field} is longer than {MaxNameLength} characters");

    /// <summary>
    /// The highest limit: far above any gateway's rate, and small enough that every share and sum of shares
    /// stays a finite number (a state with ∞ in it cannot be written as JSON).
    /// </summary>
    public const double MaxRate = 1e9;

    public static double Rate(double messagesPerSecond)
    {
        if (!double.IsFinite(messagesPerSecond) || messagesPerSecond <= 0)
        {
            throw new BadRequestException("messagesPerSecond must be a finite number greater than 0");
        }

        return messagesPerSecond <= MaxRate
            ? messagesPerSecond
            : throw new BadRequestException("messagesPerSecond must be at most 1e9 (1000000000) messages per second");
    }

    /// <summary>An IP address or CIDR block in canonical form; null (no scope) for an absent or blank value.</summary>
    public static string? ClientAddress(string? value)
    {
        if (PauseScopes.Optional(value) is not { } text)
        {
            return null;
        }

        return PauseScopes.CanonicalAddress(text)
            ?? throw new BadRequestException($"clientAddress '{Shorten(text)}' is neither an IP address nor a CIDR block such as 10.1.0.0/16");
    }

    /// <summary>A query parameter: whether it was given at all, and its value ("" when given empty).</summary>
    public static (bool Given, string? Value) Query(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out StringValues values) ? (true, values.ToString()) : (false, null);

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
