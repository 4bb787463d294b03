using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Service.Hosting;
using Controller.Service.Leadership;
using Microsoft.AspNetCore.Mvc;

namespace Controller.Service.Apis;

/// <summary>
/// The gateways' side: <see cref="ControllerRoutes.Heartbeat"/> registers and refreshes a node, and
/// <see cref="ControllerRoutes.GatewayState"/> long-polls its desired state, which is how a change reaches every
/// gateway within a second: a waiting poll is woken by the change itself, not by the next heartbeat.
/// </summary>
internal static class GatewaysApi
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    public static void MapGatewaysApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(ControllerRoutes.Heartbeat, HeartbeatAsync);
        app.MapGet(ControllerRoutes.GatewayState, StateAsync);
    }

    private static async Task<IResult> HeartbeatAsync([FromBody] GatewayReport report, ClusterState cluster, CancellationToken cancellationToken)
    {
        // Before anything is stored: a report the share rule cannot count must not reach the database (ReportChecks).
        report = ReportChecks.Validate(report);
        var reply = await cluster.HeartbeatAsync(report, cancellationToken);
        return TypedResults.Json(reply, Json.HeartbeatReply);
    }

    private static async Task<IResult> StateAsync(
        HttpContext context,
        ClusterState cluster,
        LeaderElection leadership,
        ControllerMetrics metrics,
        ControllerOptions options,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        string? node = null,
        string? etag = null,
        long? waitMs = null)
    {
        if (string.IsNullOrEmpty(node))
        {
            throw new BadRequestException("node is required: the id of the gateway asking");
        }

        if (waitMs < 0)
        {
            throw new BadRequestException("waitMs must be 0 or more");
        }

        var wait = TimeSpan.FromMilliseconds(Math.Min(waitMs ?? 0, (long)options.MaxLongPollWait.TotalMilliseconds));
        long start = time.GetTimestamp();
        var requestAborted = context.RequestAborted;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        while (true)
        {
            // Taken before the state is read: a change landing in between still completes this task.
            var changed = cluster.Changes.Next;
            if (!leadership.IsLeader || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // Stepped down (or shutting down) while the poll waited: the caller moves on to the new leader.
                context.Response.Headers.RetryAfter = "1";
                return TypedResults.Json(leadership.StandbyProblem(), Json.StandbyProblem, statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            var state = cluster.StateFor(node);
            if (state.ETag != etag)
            {
                metrics.StateAnswered(changed: true);
                return TypedResults.Json(state, Json.ControlState);
            }

            var remaining = wait - time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                metrics.StateAnswered(changed: false);
                return TypedResults.StatusCode(StatusCodes.Status304NotModified);
            }

            try
            {
                await changed.WaitAsync(remaining, time, stopping.Token);
            }
            catch (TimeoutException)
            {
                // The wait is over; the loop answers 304 unless the state changed at the last moment.
            }
            catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
            {
                // Shutting down: the loop answers as a standby.
            }
        }
    }
}
