using System.Data.Common;
using Controller.Service.Leadership;
using Controller.Service.Logging;
using Controller.Service.Store;
using Microsoft.EntityFrameworkCore;

namespace Controller.Service.Hosting;

/// <summary>
/// The last line of defence, so bad input never takes the process down: malformed requests are 400, a leader
/// term that ended during the request is the standby's 503 (the caller moves on to the new leader), an
/// unreachable database is 503 with Retry-After, and anything else is logged and answered 500.
/// </summary>
internal sealed class UnhandledErrorMiddleware(RequestDelegate next, LeaderElection leadership, ILogger<UnhandledErrorMiddleware> logger)
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
        catch (Exception e) when (e is BadHttpRequestException or BadRequestException)
        {
            ControllerLog.BadRequest(logger, context.Request.Method, context.Request.Path, e.Message);
            if (!context.Response.HasStarted)
            {
                int status = e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
                await Problems.Status(status, e.Message).ExecuteAsync(context);
            }
        }
        catch (NotLeaderException e)
        {
            ControllerLog.TermEnded(logger, context.Request.Method, context.Request.Path, e.Message);
            if (!context.Response.HasStarted)
            {
                await LeaderGateMiddleware.Standby(context, leadership);
            }
        }
        catch (Exception e) when (e is DbException or TimeoutException or DbUpdateException)
        {
            ControllerLog.DatabaseUnavailable(logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = "1";
                await Problems.Status(StatusCodes.Status503ServiceUnavailable, "the controller's database is unavailable; retry").ExecuteAsync(context);
            }
        }
        catch (Exception e)
        {
            ControllerLog.RequestFailed(logger, e, context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await Problems.Status(StatusCodes.Status500InternalServerError, null).ExecuteAsync(context);
            }
        }
    }
}
