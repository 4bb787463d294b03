using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MetaService.Api.Hosting;

/// <summary>A request the service cannot make sense of (malformed or incomplete body, bad query): 400.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>
/// Reads JSON bodies with the source-generated contract types. Any content type is accepted (curl users
/// forget the header). Error texts name the JSON path, never a value: a body can carry a password.
/// </summary>
internal static class RequestBody
{
    /// <summary>The body, or null when the request has none.</summary>
    public static async Task<T?> ReadOptionalAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), type)
                ?? throw new BadRequestException("the body is JSON null");
        }
        catch (JsonException e)
        {
            // The serializer's own text for a missing member names members only; other texts may quote input.
            var reason = e.Message.Contains("missing required properties", StringComparison.Ordinal)
                ? e.Message
                : $"malformed JSON, or a member of the wrong type or null, at {e.Path ?? "$"}";
            throw new BadRequestException(reason);
        }
    }

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class =>
        await ReadOptionalAsync(request, type, cancellationToken) ?? throw new BadRequestException("a JSON body is required");
}
