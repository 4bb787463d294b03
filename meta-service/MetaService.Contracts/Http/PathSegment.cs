namespace MetaService.Contracts.Http;

/// <summary>
/// How a vhost, user, exchange, queue or policy name travels as one URL path segment. Names are
/// percent-encoded ("/" as %2F, so the default vhost is <c>/api/queues/%2F/orders</c>), and the
/// server decodes the raw request target rather than the routed path, which keeps "%2F" and "%252F"
/// apart. Three names cannot be a plain segment, so they get a leading "~" as an escape:
/// "" (an empty segment would not route), "." and ".." (dot segments are removed by URL
/// normalisation); a name that itself starts with "~" gets one more. "~" alone is the empty name.
/// </summary>
public static class PathSegment
{
    private const char Escape = '~';

    public static string Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var needsEscape = name.Length == 0 || name[0] == Escape || name is "." or "..";
        return Uri.EscapeDataString(needsEscape ? Escape + name : name);
    }

    /// <summary>The name carried by a raw (still percent-encoded) path segment.</summary>
    public static string Decode(string rawSegment)
    {
        ArgumentNullException.ThrowIfNull(rawSegment);
        var name = Uri.UnescapeDataString(rawSegment);
        return name.Length > 0 && name[0] == Escape ? name[1..] : name;
    }
}
