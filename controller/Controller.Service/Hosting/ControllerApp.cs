using System.Data.Common;
using Controller.Contracts;
using Controller.Service.Apis;
using Controller.Service.Cluster;
using Controller.Service.Leadership;
using Controller.Service.Logging;
using Controller.Service.Store;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Prometheus;

namespace Controller.Service.Hosting;

/// <summary>
/// Builds the controller: its tables migrated before the first request, leader election and the node-liveness
/// sweep as background services, then token check → leader gate → routes. Program.cs runs it; tests (and a
/// single-process deployment) start it in-process, several instances per process if they like.
/// </summary>
public static class ControllerApp
{
    /// <summary>A ready-to-start controller instance. <paramref name="time"/> replaces the system clock (tests).</summary>
    public static async Task<WebApplication> CreateAsync(
        ControllerOptions options,
        Action<ILoggingBuilder>? configureLogging = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        time ??= TimeProvider.System;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls($"http://{HostForUrl(options.Bind)}:{options.Port}");
        // A line per request would drown the log: every gateway heartbeats each second and keeps a poll open.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        configureLogging?.Invoke(builder.Logging);

        var contexts = options.UsesPostgres
            ? ControllerDbContextFactory.ForPostgres(options.Database!)
            : ControllerDbContextFactory.ForSqlite(options.SqlitePath);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(new ControllerStore(contexts, time));
        builder.Services.AddSingleton<ClusterState>();
        builder.Services.AddSingleton<LeaderElection>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LeaderElection>());
        builder.Services.AddHostedService<LivenessMonitor>();
        builder.Services.AddSingleton(services => ControllerMetrics.Create(services.GetRequiredService<ClusterState>(), services.GetRequiredService<LeaderElection>()));
        // Bodies and query values that do not bind reach UnhandledErrorMiddleware as exceptions and get a 400 problem.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControllerJsonContext.Default));

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Controller.Service");
        var store = app.Services.GetRequiredService<ControllerStore>();
        await MigrateAsync(store, options, logger, cancellationToken);
        ControllerLog.StoreReady(logger, options.UsesPostgres ? "PostgreSQL" : "SQLite", options.UsesPostgres ? Redacted(options.Database!) : Path.GetFullPath(options.SqlitePath));

        var metrics = app.Services.GetRequiredService<ControllerMetrics>();
        // Before routing, which is where a body's content type is checked against the endpoint's.
        app.Use(TreatBodiesAsJson);
        app.UseRouting();
        // Outside the rest, so refused and failed requests are counted too; labelled by route template, never by vhost or queue.
        app.UseHttpMetrics(o => o.SetMetricFactory(Metrics.WithCustomRegistry(metrics.Registry)));
        app.UseMiddleware<UnhandledErrorMiddleware>();
        app.UseMiddleware<BearerTokenMiddleware>();
        app.UseMiddleware<LeaderGateMiddleware>();

        var leadership = app.Services.GetRequiredService<LeaderElection>();
        app.MapGet(ControllerRoutes.Health, () => TypedResults.Text(leadership.IsLeader ? """{"role":"leader"}""" : """{"role":"standby"}""", "application/json"));
        app.MapMetrics(ControllerMetrics.Path, metrics.Registry);
        app.MapGatewaysApi();
        app.MapRulesApi();
        app.MapViewsApi();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = ListeningUrls(app);
            var advertised = options.EffectiveAdvertiseUrl(urls.Count > 0 ? urls[0].Port : options.Port);
            ControllerLog.Listening(logger, leadership.InstanceId, string.Join(", ", urls), advertised);
            leadership.OnServerStarted(advertised);
        });
        return app;
    }

    /// <summary>The addresses Kestrel bound (port 0 resolved), once the app has started.</summary>
    public static IReadOnlyList<Uri> ListeningUrls(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return [.. addresses.Select(a => new Uri(a))];
    }

    /// <summary>
    /// Brings the controller's tables up to date; a PostgreSQL server that is not up yet (compose starting
    /// everything at once) is waited for, up to <see cref="ControllerOptions.DatabaseStartupTimeout"/>.
    /// </summary>
    private static async Task MigrateAsync(ControllerStore store, ControllerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.DatabaseStartupTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await store.MigrateAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (options.UsesPostgres && e is DbException or TimeoutException && DateTime.UtcNow + delay < deadline)
            {
                ControllerLog.DatabaseNotReachable(logger, e.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>
    /// Every /api body is JSON, whatever it is labelled: curl sends -d data as a form unless told otherwise, and
    /// minimal APIs would answer 415 where the operator only forgot a header.
    /// </summary>
    private static Task TreatBodiesAsJson(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (ApiPaths.IsApi(request.Path) && request.ContentLength is not 0 && !request.HasJsonContentType() &&
            (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0))
        {
            request.ContentType = "application/json";
        }

        return next(context);
    }

    private static string HostForUrl(string bind) =>
        bind.Contains(':', StringComparison.Ordinal) && !bind.StartsWith('[') ? $"[{bind}]" : bind;

    /// <summary>A PostgreSQL connection string without its password, for the log.</summary>
    private static string Redacted(string connectionString) =>
        string.Join(';', connectionString
            .Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(part => !part.TrimStart().StartsWith("password", StringComparison.OrdinalIgnoreCase) &&
                           !part.TrimStart().StartsWith("pwd", StringComparison.OrdinalIgnoreCase)));
}
