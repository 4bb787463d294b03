using MetaService.Contracts;
using Prometheus;

namespace MetaService.Api.Hosting;

/// <summary>
/// GET /metrics in the Prometheus text format: HTTP request counts and durations (prometheus-net's
/// middleware, labelled by method, status code and route template, never by the concrete path, so names of
/// vhosts, users or queues do not appear and the series stay bounded), and the change feed's revision.
/// </summary>
/// <remarks>
/// Served without the API token, like /healthz: Prometheus scrapers carry none, and nothing here is secret
/// (route templates, counts, one revision number). Each app has its own registry, so several services in
/// one process (the tests) do not add up each other's requests.
/// </remarks>
internal static class MetaServiceMetrics
{
    public const string Path = "/metrics";

    public static CollectorRegistry Create(IMetadataStore store)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var revision = Prometheus.Metrics.WithCustomRegistry(registry)
            .CreateGauge("meta_change_feed_revision", "Revision of the latest metadata change (what following gateways catch up to).");
        registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            // Asking for changes after the largest possible revision finds none and, without waiting, answers with
            // the latest revision: one indexed MAX query, where a snapshot would read every record.
            ChangeBatch latest = await store.GetChangesAsync(long.MaxValue, TimeSpan.Zero, cancellationToken);
            revision.Set(latest.Revision);
        });
        return registry;
    }
}
