using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;

namespace MetaService.Api.Hosting;

/// <summary>
/// Reads a name (vhost, user, exchange, queue, policy) out of the request's raw target. Routed values
/// are not enough: the server keeps "%2F" encoded but decodes "%25", so "a%2Fb" and "a%252Fb" would both
/// route as "a%2Fb". Decoding the raw segment at the parameter's position keeps them apart (see
/// <see cref="PathSegment"/> for the encoding, including the "~" escape of "", "." and "..").
/// </summary>
internal static class RouteNames
{
    public static string Get(HttpContext context, string parameter)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            throw new InvalidOperationException("not a routed endpoint");
        }

        var index = IndexOf(endpoint.RoutePattern, parameter);
        var raw = RawPath(context);
        // The raw path starts with '/', so segment i of the pattern is element i + 1 of the split.
        var segments = raw.Split('/');
        return index + 1 < segments.Length ? PathSegment.Decode(segments[index + 1]) : "";
    }

    private static int IndexOf(RoutePattern pattern, string parameter)
    {
        for (var i = 0; i < pattern.PathSegments.Count; i++)
        {
            var parts = pattern.PathSegments[i].Parts;
            if (parts is [RoutePatternParameterPart part] && part.Name == parameter)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"route {pattern.RawText} has no segment {{{parameter}}}");
    }

    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return context.Request.Path.Value ?? "/";
        }

        var query = raw.IndexOfAny(['?', '#']);
        if (query >= 0)
        {
            raw = raw[..query];
        }

        // Absolute-form request target (through a proxy): keep only the path.
        if (!raw.StartsWith('/') && Uri.TryCreate(raw, UriKind.Absolute, out var absolute))
        {
            raw = absolute.GetComponents(UriComponents.Path | UriComponents.KeepDelimiter, UriFormat.UriEscaped);
        }

        return raw;
    }
}
