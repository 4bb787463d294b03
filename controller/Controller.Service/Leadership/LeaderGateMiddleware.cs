using Controller.Contracts;
using Controller.Service.Hosting;

namespace Controller.Service.Leadership;

/// <summary>
/// Only the leader serves <c>/api</c>: a standby answers 503 with a <see cref="StandbyProblem"/> naming the
/// leader, and <c>Retry-After: 1</c>, so a <see cref="ControllerClient"/> given every instance's URL goes
/// straight to the leader. Runs after the token check: an unauthenticated caller learns nothing.
/// </summary>
internal sealed class LeaderGateMiddleware(RequestDelegate next, LeaderElection leadership)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!ApiPaths.IsApi(context.Request.Path) || leadership.IsLeader)
        {
            return next(context);
        }

        return Standby(context, leadership);
    }

    public static Task Standby(HttpContext context, LeaderElection leadership)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Json(
            leadership.StandbyProblem(), ControllerJsonContext.Default.StandbyProblem, statusCode: StatusCodes.Status503ServiceUnavailable)
            .ExecuteAsync(context);
    }
}
