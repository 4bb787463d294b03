using System.Security.Cryptography;
using System.Text;
using Controller.Contracts;
using Controller.Service.Logging;

namespace Controller.Service.Hosting;

/// <summary>
/// Every <c>/api</c> request needs <c>Authorization: Bearer &lt;token&gt;</c>, else 401. The comparison is
/// constant-time over SHA-256 digests, so neither the token's content nor its length leaks through timing.
/// <c>/healthz</c> and <c>/metrics</c> are open (Prometheus scrapers and load balancer probes carry no token).
/// </summary>
internal sealed class BearerTokenMiddleware
{
    private readonly RequestDelegate _next;
    private readonly byte[] _expectedDigest;
    private readonly ILogger<BearerTokenMiddleware> _logger;

    public BearerTokenMiddleware(RequestDelegate next, ControllerOptions options, ILogger<BearerTokenMiddleware> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.Token);
        _next = next;
        _expectedDigest = SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (!ApiPaths.IsApi(context.Request.Path))
        {
            return _next(context);
        }

        var reason = Check(context.Request.Headers.Authorization.ToString());
        if (reason is null)
        {
            return _next(context);
        }

        ControllerLog.Unauthorized(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString(), reason);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized().ExecuteAsync(context);
    }

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

/// <summary>The paths that need the token and only the leader serves (every route of <see cref="ControllerRoutes"/> but health and metrics).</summary>
internal static class ApiPaths
{
    public static bool IsApi(PathString path) => path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);
}
