using System.Collections.Concurrent;
using System.Net;
using Controller.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TestSupport;

/// <summary>
/// A stand-in for one controller instance on a free loopback port, serving the routes of
/// <see cref="ControllerRoutes"/> from memory: heartbeats are recorded, the desired state is switchable and
/// long-polled as the contract says, pauses and limits can be set and removed (their changes become the
/// state), and the operator views are whatever the test puts in. <see cref="StandbyOf"/> makes it answer
/// every /api route with 503 naming a leader, as a standby does.
/// </summary>
public sealed class FakeController : IAsyncDisposable
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<PauseRule> _pauses = [];
    private readonly List<ConsumeLimit> _consumeLimits = [];
    private readonly List<PublishLimit> _publishLimits = [];
    private ControlState _state = ControlState.Empty;
    private TaskCompletionSource _stateChanged = NewSignal();
    private int _version;

    private FakeController(WebApplication app, string id, string token)
    {
        _app = app;
        Id = id;
        Token = token;
    }

    public string Id { get; }

    public string Token { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>Every heartbeat received, oldest first.</summary>
    public ConcurrentQueue<GatewayReport> Reports { get; } = new();

    /// <summary>How many /api requests arrived, answered or refused.</summary>
    public int ApiRequests => Volatile.Read(ref _apiRequests);

    private int _apiRequests;

    /// <summary>How many state requests arrived (long polls included).</summary>
    public int StateRequests => Volatile.Read(ref _stateRequests);

    private int _stateRequests;

    /// <summary>When set, this instance is a standby naming that leader: every /api route answers 503.</summary>
    public FakeController? StandbyOf { get; set; }

    /// <summary>With <see cref="StandbyOf"/>: the leader URL the standby names instead of the leader's own (one a client may not reach).</summary>
    public Uri? AdvertisedLeaderUrl { get; set; }

    /// <summary>When set, every /api route answers this status (to provoke server errors).</summary>
    public HttpStatusCode? FailWith { get; set; }

    public NodeView[] Nodes { get; set; } = [];

    public QueueView[] Queues { get; set; } = [];

    public ConsumerView[] Consumers { get; set; } = [];

    public DateTimeOffset LeaseExpiresAt { get; set; } = DateTimeOffset.UtcNow.AddSeconds(10);

    public ControlState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    public IReadOnlyList<PauseRule> Pauses
    {
        get
        {
            lock (_lock)
            {
                return [.. _pauses];
            }
        }
    }

    public IReadOnlyList<ConsumeLimit> ConsumeLimits
    {
        get
        {
            lock (_lock)
            {
                return [.. _consumeLimits];
            }
        }
    }

    public IReadOnlyList<PublishLimit> PublishLimits
    {
        get
        {
            lock (_lock)
            {
                return [.. _publishLimits];
            }
        }
    }

    public static async Task<FakeController> StartAsync(string id = "controller-1", string token = "test-token")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var controller = new FakeController(app, id, token);
        controller.MapRoutes();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        controller.Url = new Uri(address);
        return controller;
    }

    /// <summary>Replaces the state every node receives (answering the long polls waiting for a change).</summary>
    public void SetState(ControlState state)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _state = state;
            changed = _stateChanged;
            _stateChanged = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>A state with one pause of <paramref name="queue"/> in vhost "/" and a fresh ETag.</summary>
    public static ControlState StateWithPause(string eTag, string queue) =>
        new(eTag, [new PauseRule("p-" + eTag, "/", queue, null, null, DateTimeOffset.UtcNow)], [], []);

    /// <summary>Stops as a crashed instance would: held long polls are cut, not answered.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void MapRoutes()
    {
        _app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/api"))
            {
                await next(context);
                return;
            }

            Interlocked.Increment(ref _apiRequests);
            if (StandbyOf is { } leader)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsJsonAsync(new StandbyProblem("standby", Id, leader.Id, (AdvertisedLeaderUrl ?? leader.Url).ToString()), Json.StandbyProblem);
                return;
            }

            if (FailWith is { } status)
            {
                await ProblemAsync(context, (int)status, "failing on purpose");
                return;
            }

            if (context.Request.Headers.Authorization.ToString() != "Bearer " + Token)
            {
                await ProblemAsync(context, StatusCodes.Status401Unauthorized, "missing or wrong token");
                return;
            }

            await next(context);
        });

        _app.MapPost(ControllerRoutes.Heartbeat, async context =>
        {
            var report = await context.Request.ReadFromJsonAsync(Json.GatewayReport);
            if (report is null || string.IsNullOrEmpty(report.NodeId))
            {
                await ProblemAsync(context, 400, "a report needs a node id");
                return;
            }

            Reports.Enqueue(report);
            await context.Response.WriteAsJsonAsync(new HeartbeatReply(Id, State.ETag), Json.HeartbeatReply);
        });
        _app.MapGet(ControllerRoutes.GatewayState, ServeStateAsync);
        _app.MapGet(ControllerRoutes.Status, context =>
        {
            var status = new ControllerStatus(
                Id, true, Id, Url.ToString(), 3, LeaseExpiresAt, Nodes.Count(n => n.Live), Nodes.Count(n => !n.Live), Pauses, ConsumeLimits, PublishLimits);
            return context.Response.WriteAsJsonAsync(status, Json.ControllerStatus);
        });
        _app.MapGet(ControllerRoutes.Nodes, context => context.Response.WriteAsJsonAsync(Nodes, Json.NodeViewArray));
        _app.MapGet(ControllerRoutes.Queues, context => context.Response.WriteAsJsonAsync(Queues, Json.QueueViewArray));
        _app.MapGet(ControllerRoutes.Consumers, context => context.Response.WriteAsJsonAsync(Consumers, Json.ConsumerViewArray));
        _app.MapGet(ControllerRoutes.Pauses, context => context.Response.WriteAsJsonAsync(Pauses.ToArray(), Json.PauseRuleArray));
        _app.MapPost(ControllerRoutes.Pauses, PauseAsync);
        _app.MapDelete(ControllerRoutes.Pauses, context =>
        {
            var query = context.Request.Query;
            string? clientAddress = query["clientAddress"];
            string? connectionName = query["connectionName"];
            bool scoped = clientAddress is not null || connectionName is not null;
            return RemoveAsync(context, _pauses, p => p.VHost == query["vhost"] && p.Queue == query["queue"]
                && (!scoped || (p.ClientAddress == clientAddress && p.ConnectionName == connectionName)));
        });
        _app.MapGet(ControllerRoutes.ConsumeLimits, context => context.Response.WriteAsJsonAsync(ConsumeLimits.ToArray(), Json.ConsumeLimitArray));
        _app.MapPut(ControllerRoutes.ConsumeLimits, async context =>
        {
            var limit = await context.Request.ReadFromJsonAsync(Json.ConsumeLimit);
            if (limit is null || string.IsNullOrEmpty(limit.Queue) || !(limit.MessagesPerSecond > 0))
            {
                await ProblemAsync(context, 400, "a consume limit needs a queue and a positive rate");
                return;
            }

            Change(() =>
            {
                _consumeLimits.RemoveAll(l => l.VHost == limit.VHost && l.Queue == limit.Queue);
                _consumeLimits.Add(limit);
            });
            await context.Response.WriteAsJsonAsync(limit, Json.ConsumeLimit);
        });
        _app.MapDelete(ControllerRoutes.ConsumeLimits, context =>
            RemoveAsync(context, _consumeLimits, l => l.VHost == context.Request.Query["vhost"] && l.Queue == context.Request.Query["queue"]));
        _app.MapGet(ControllerRoutes.PublishLimits, context => context.Response.WriteAsJsonAsync(PublishLimits.ToArray(), Json.PublishLimitArray));
        _app.MapPut(ControllerRoutes.PublishLimits, async context =>
        {
            var limit = await context.Request.ReadFromJsonAsync(Json.PublishLimit);
            if (limit is null || string.IsNullOrEmpty(limit.VHost) || !(limit.MessagesPerSecond > 0))
            {
                await ProblemAsync(context, 400, "a publish limit needs a vhost and a positive rate");
                return;
            }

            Change(() =>
            {
                _publishLimits.RemoveAll(l => l.VHost == limit.VHost && l.Exchange == limit.Exchange);
                _publishLimits.Add(limit);
            });
            await context.Response.WriteAsJsonAsync(limit, Json.PublishLimit);
        });
        _app.MapDelete(ControllerRoutes.PublishLimits, context =>
        {
            string? exchange = context.Request.Query["exchange"];
            return RemoveAsync(context, _publishLimits, l => l.VHost == context.Request.Query["vhost"] && l.Exchange == exchange);
        });
    }

    private async Task ServeStateAsync(HttpContext context)
    {
        Interlocked.Increment(ref _stateRequests);
        string? eTag = context.Request.Query["etag"];
        int waitMs = int.TryParse(context.Request.Query["waitMs"], out int w) ? Math.Clamp(w, 0, 30_000) : 0;
        Task changed;
        ControlState state;
        lock (_lock)
        {
            state = _state;
            changed = _stateChanged.Task;
        }

        if (state.ETag == eTag)
        {
            using var abandon = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await changed.WaitAsync(TimeSpan.FromMilliseconds(waitMs), abandon.Token);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }

            state = State;
            if (state.ETag == eTag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
        }

        await context.Response.WriteAsJsonAsync(state, Json.ControlState);
    }

    private async Task PauseAsync(HttpContext context)
    {
        var request = await context.Request.ReadFromJsonAsync(Json.PauseRequest);
        if (request is null || string.IsNullOrEmpty(request.Queue) || string.IsNullOrEmpty(request.VHost))
        {
            await ProblemAsync(context, 400, "a pause needs a vhost and a queue");
            return;
        }

        if (request.ClientAddress is { } address && !IPAddress.TryParse(address, out _) && !IPNetwork.TryParse(address, out _))
        {
            await ProblemAsync(context, 400, $"'{address}' is neither an IP address nor a CIDR block");
            return;
        }

        PauseRule? rule = null;
        bool created = false;
        Change(() =>
        {
            rule = _pauses.Find(p => p.VHost == request.VHost && p.Queue == request.Queue
                && p.ClientAddress == request.ClientAddress && p.ConnectionName == request.ConnectionName);
            if (rule is null)
            {
                rule = new PauseRule($"pause-{_pauses.Count + 1}", request.VHost, request.Queue, request.ClientAddress, request.ConnectionName, DateTimeOffset.UtcNow);
                _pauses.Add(rule);
                created = true;
            }
        });
        context.Response.StatusCode = created ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        await context.Response.WriteAsJsonAsync(rule!, Json.PauseRule);
    }

    private async Task RemoveAsync<T>(HttpContext context, List<T> rules, Predicate<T> match)
    {
        int removed = 0;
        Change(() => removed = rules.RemoveAll(match));
        if (removed == 0)
        {
            await ProblemAsync(context, 404, "nothing matched");
            return;
        }

        await context.Response.WriteAsJsonAsync(new RemovedReply(removed), Json.RemovedReply);
    }

    /// <summary>Applies an operator change and publishes the resulting state under a new ETag.</summary>
    private void Change(Action change)
    {
        ControlState next;
        lock (_lock)
        {
            change();
            _version++;
            next = new ControlState(
                $"{Id}-v{_version}",
                [.. _pauses],
                [.. _consumeLimits.Select(l => new ConsumeLimitShare(l.VHost, l.Queue, l.MessagesPerSecond, l.MessagesPerSecond))],
                [.. _publishLimits.Select(l => new PublishLimitShare(l.VHost, l.Exchange, l.MessagesPerSecond, l.MessagesPerSecond))]);
        }

        SetState(next);
    }

    private static Task ProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            new ControllerProblem(ReasonPhrases(status), detail, status),
            Json.ControllerProblem,
            "application/problem+json");
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
