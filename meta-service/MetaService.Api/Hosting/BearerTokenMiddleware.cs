using System.Security.Cryptography;
using System.Text;
using MetaService.Api.Logging;

namespace MetaService.Api.Hosting;

/// <summary>
/// Every request needs <c>Authorization: Bearer &lt;token&gt;</c> except <c>GET /healthz</c> and <c>GET /metrics</c>
/// (for Prometheus scrapers, which carry no token; see <see cref="MetaServiceMetrics"/>); anything else
/// is 401. The comparison is constant-time over SHA-256 digests, so neither the content nor the length
/// of the configured token leaks through timing.
/// </summary>
internal sealed class BearerTokenMiddleware
{
    private readonly RequestDelegate _next;
    private readonly byte[] _expectedDigest;
    private readonly ILogger<BearerTokenMiddleware> _logger;

    public BearerTokenMiddleware(RequestDelegate next, MetaServiceOptions options, ILogger<BearerTokenMiddleware> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.Token);
        _next = next;
        _expectedDigest = SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (IsPublic(context.Request))
        {
            return _next(context);
        }

        var reason = Check(context.Request.Headers.Authorization.ToString());
        if (reason is null)
        {
            return _next(context);
        }

        MetaServiceLog.Unauthorized(
            _logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString(), reason);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized().ExecuteAsync(context);
    }

    private static bool IsPublic(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) &&
        (request.Path.Equals("/healthz", StringComparison.Ordinal) || request.Path.Equals(MetaServiceMetrics.Path, StringComparison.Ordinal));

    /// <summary>Null when the header carries the token; otherwise why not (for the log, never the token).</summary>
    private string? Check(string header)
    {
        const string Scheme = "Bearer ";
        if (header.Length == 0)
        {
            return "no Authorization header";
        }

        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return "not a bearer token";
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header.AsSpan(Scheme.Length).Trim().ToString()));
        return CryptographicOperations.FixedTimeEquals(presented, _expectedDigest) ? null : "wrong token";
    }
}
