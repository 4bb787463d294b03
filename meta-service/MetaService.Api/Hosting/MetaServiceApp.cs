using System.Data.Common;
using MetaService.Api.Apis;
using MetaService.Api.Logging;
using MetaService.Contracts;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Prometheus;

namespace MetaService.Api.Hosting;

/// <summary>
/// Builds the metadata service: the store (created, migrated and seeded before the first request), token
/// authentication, and one endpoint group per area. Program.cs runs it; tests start it in-process on
/// 127.0.0.1:0 with their own logging.
/// </summary>
public static class MetaServiceApp
{
    /// <summary>
    /// A ready-to-run service. <paramref name="openStore"/> replaces the default store (EF Core on SQLite or
    /// PostgreSQL, per <paramref name="options"/>); the app disposes the store when it is disposed.
    /// </summary>
    public static async Task<WebApplication> CreateAsync(
        MetaServiceOptions options,
        Action<ILoggingBuilder>? configureLogging = null,
        Func<CancellationToken, Task<IMetadataStore>>? openStore = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Token))
        {
            throw new ArgumentException("an API token is required (--token or META_TOKEN)", nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(options.EffectiveUrls);
        configureLogging?.Invoke(builder.Logging);

        builder.Services.AddSingleton(options);
        // Bad query values reach UnhandledErrorMiddleware as exceptions and get a problem body too.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // The store is opened below, once logging works; a factory registration so the container disposes it.
        var holder = new StoreHolder();
        builder.Services.AddSingleton(_ => holder.Store ?? throw new InvalidOperationException("the store is not open yet"));

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MetaService.Api");
        var store = holder.Store = openStore is null
            ? await OpenStoreAsync(options, logger, cancellationToken)
            : await openStore(cancellationToken);
        var revision = (await store.GetSnapshotAsync(cancellationToken)).Revision;
        MetaServiceLog.StoreReady(logger, options.UsesPostgres ? "PostgreSQL" : "SQLite", StoreLocation(options), revision);

        var metrics = MetaServiceMetrics.Create(store);
        // Outermost, so requests refused by the token check or failed in a handler are counted too.
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(metrics)));
        app.UseMiddleware<UnhandledErrorMiddleware>();
        app.UseMiddleware<BearerTokenMiddleware>();

        app.MapGet("/healthz", () => TypedResults.Text("ok"));
        app.MapMetrics(MetaServiceMetrics.Path, metrics);
        // Handlers take the store as [FromServices]: IMetadataStore has a BindAsync method, which minimal APIs
        // would otherwise mistake for a custom parameter binder.
        var api = app.MapGroup("/api").AddEndpointFilter<StoreRefusalFilter>();
        api.MapVirtualHostsApi();
        api.MapUsersApi();
        api.MapPermissionsApi();
        api.MapExchangesApi();
        api.MapQueuesApi();
        api.MapBindingsApi();
        api.MapPoliciesApi();
        api.MapSnapshotApi();
        api.MapChangesApi();
        api.MapDefinitionsApi();

        app.Lifetime.ApplicationStarted.Register(() => MetaServiceLog.Listening(logger, string.Join(", ", ListeningUrls(app))));
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), once the app has started.</summary>
    public static IReadOnlyList<Uri> ListeningUrls(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return [.. addresses.Select(a => new Uri(a))];
    }

    /// <summary>
    /// Opens the store; a PostgreSQL server that is not up yet (compose starting everything at once) is
    /// waited for, up to <see cref="MetaServiceOptions.DatabaseStartupTimeout"/>. SQLite errors are
    /// configuration errors and fail at once.
    /// </summary>
    private static async Task<IMetadataStore> OpenStoreAsync(
        MetaServiceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.DatabaseStartupTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                return await MetadataStores.OpenAsync(options, cancellationToken);
            }
            catch (Exception e) when (options.UsesPostgres && e is DbException or TimeoutException && DateTime.UtcNow + delay < deadline)
            {
                MetaServiceLog.DatabaseNotReachable(logger, e.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static string StoreLocation(MetaServiceOptions options) =>
        options.UsesPostgres ? RedactedConnectionString(options.Database!) : Path.GetFullPath(options.SqlitePath);

    private sealed class StoreHolder
    {
        public IMetadataStore? Store { get; set; }
    }

    /// <summary>A PostgreSQL connection string without its password, for the log.</summary>
    internal static string RedactedConnectionString(string connectionString) =>
        string.Join(';', connectionString
            .Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(part => !part.TrimStart().StartsWith("password", StringComparison.OrdinalIgnoreCase) &&
                           !part.TrimStart().StartsWith("pwd", StringComparison.OrdinalIgnoreCase)));
}
