using System.Globalization;
using System.Text;
using System.Text.Json;
using MetaService.Api.Hosting;
using MetaService.Api.Logging;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>
/// The change feed, two ways:
/// <list type="bullet">
/// <item><c>GET /api/changes?after=N&amp;wait=30s</c>: a long poll answering a <see cref="ChangeBatch"/> as
/// soon as there is a change after revision N, or an empty batch once the wait is over.</item>
/// <item><c>GET /api/changes/stream?after=N</c>: server-sent events, one <c>change</c> event per change with
/// the revision as its id, so a reconnecting EventSource resumes from its <c>Last-Event-ID</c> header
/// (which wins over <c>after</c>). An idle stream sends a comment now and then to keep proxies from
/// closing it.</item>
/// </list>
/// Both end promptly when the service shuts down, so a restart is not held up by followers.
/// </summary>
internal static class ChangesApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapChangesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/changes");
        group.MapGet("/", LongPollAsync);
        group.MapGet("/stream", StreamAsync);
        return group;
    }

    private static async Task<IResult> LongPollAsync(
        [FromServices] IMetadataStore store,
        MetaServiceOptions options,
        IHostApplicationLifetime lifetime,
        long after = 0,
        string? wait = null,
        CancellationToken cancellationToken = default)
    {
        if (after < 0)
        {
            throw new BadRequestException("after must be a revision (0 or more)");
        }

        var maxWait = ParseWait(wait);
        if (maxWait > options.MaxLongPollWait)
        {
            maxWait = options.MaxLongPollWait;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        ChangeBatch batch;
        try
        {
            batch = await store.GetChangesAsync(after, maxWait, linked.Token);
        }
        catch (OperationCanceledException) when (
            lifetime.ApplicationStopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Shutting down: nothing new, ask again (of the next instance).
            batch = new ChangeBatch(after, []);
        }

        return TypedResults.Json(batch, Json.ChangeBatch);
    }

    private static async Task StreamAsync(
        HttpContext context,
        [FromServices] IMetadataStore store,
        MetaServiceOptions options,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        long after = 0)
    {
        if (long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var lastEventId))
        {
            after = lastEventId;
        }

        if (after < 0)
        {
            throw new BadRequestException("after must be a revision (0 or more)");
        }

        var logger = loggers.CreateLogger(typeof(ChangesApi).FullName!);
        var remote = context.Connection.RemoteIpAddress?.ToString();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var stopping = linked.Token;
        MetaServiceLog.StreamOpened(logger, after, remote);
        try
        {
            // Reconnect after 1 s (EventSource's retry field), and get the headers out now.
            await WriteAsync(response, "retry: 1000\n\n", stopping);
            while (!stopping.IsCancellationRequested)
            {
                var batch = await store.GetChangesAsync(after, options.StreamKeepAlive, stopping);
                if (batch.Changes.Count == 0)
                {
                    await WriteAsync(response, ": keep-alive\n\n", stopping);
                }

                foreach (var change in batch.Changes)
                {
                    if (change.Revision <= after)
                    {
                        continue;
                    }

                    await WriteChangeAsync(response, change, stopping);
                    after = change.Revision;
                }

                after = Math.Max(after, batch.Revision);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The client left, or the service is stopping: the client resumes from its Last-Event-ID.
        }
        finally
        {
            MetaServiceLog.StreamClosed(logger, after, remote);
        }
    }

    private static async Task WriteChangeAsync(HttpResponse response, MetadataChange change, CancellationToken cancellationToken)
    {
        // Compact JSON has no line breaks (those inside strings are escaped), so one data line carries it.
        var json = JsonSerializer.SerializeToUtf8Bytes(change, Json.MetadataChange);
        var head = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id: {change.Revision}\nevent: change\ndata: "));
        await response.Body.WriteAsync(head, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await WriteAsync(response, "\n\n", cancellationToken);
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>"30s", "500ms", "2m", a bare number of seconds, or a TimeSpan ("00:00:30"); none means do not wait.</summary>
    internal static TimeSpan ParseWait(string? wait)
    {
        if (string.IsNullOrWhiteSpace(wait))
        {
            return TimeSpan.Zero;
        }

        wait = wait.Trim();
        var (number, unit) = wait switch
        {
            _ when wait.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (wait[..^2], 1.0),
            _ when wait.EndsWith('s') || wait.EndsWith('S') => (wait[..^1], 1000.0),
            _ when wait.EndsWith('m') || wait.EndsWith('M') => (wait[..^1], 60_000.0),
            _ => (wait, 1000.0),
        };
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return TimeSpan.FromMilliseconds(value * unit);
        }

        if (TimeSpan.TryParse(wait, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        throw new BadRequestException("wait is a duration: 30s, 500ms, 2m or a number of seconds");
    }
}
