using System.Data.Common;
using MetaService.Api.Logging;

namespace MetaService.Api.Hosting;

/// <summary>
/// The last line of defence: an unexpected failure is logged (with its exception, never the request
/// body) and answered with a bare 500 problem; a database that cannot be reached is a 503, which
/// clients (the follower) retry; a request the client abandoned ends quietly.
/// </summary>
internal sealed class UnhandledErrorMiddleware(RequestDelegate next, ILogger<UnhandledErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (BadHttpRequestException e)
        {
            // Malformed query values (parameter binding), a body over the size limit (413) and the like.
            MetaServiceLog.BadRequest(logger, context.Request.Method, context.Request.Path, e.Message);
            if (!context.Response.HasStarted)
            {
                await Problems.Status(e.StatusCode, e.Message).ExecuteAsync(context);
            }
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            MetaServiceLog.DatabaseUnavailable(logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = "1";
                await Problems.Unavailable("the metadata database is unavailable; retry").ExecuteAsync(context);
            }
        }
        catch (Exception e)
        {
            MetaServiceLog.RequestFailed(logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await Problems.InternalError().ExecuteAsync(context);
            }
        }
    }
}
