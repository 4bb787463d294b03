using Controller.Contracts;
using Gateway.Server.Control;

namespace Gateway.Host.Control;

/// <summary>Who the gateway is in its heartbeats: fixed once it listens.</summary>
/// <param name="MetricsUrl">Its Prometheus scrape URL; null when metrics are off.</param>
public sealed record GatewayIdentity(string NodeId, string AmqpEndpoint, string? MetricsUrl, DateTimeOffset StartedAt);

/// <summary>
/// Turns two <see cref="TrafficSnapshot"/>s (cumulative counters) into a <see cref="GatewayReport"/> (rates):
/// each rate is the counter's growth between the two snapshots over the seconds between them.
/// </summary>
public static class TrafficReports
{
    /// <param name="previous">The snapshot of the previous report; null for the first, whose rates are all 0.</param>
    public static GatewayReport Build(GatewayIdentity identity, string? appliedETag, TrafficSnapshot? previous, TrafficSnapshot current)
    {
        double seconds = previous is null ? 0 : (current.TakenAt - previous.TakenAt).TotalSeconds;
        var queuesBefore = ByKey(previous?.Queues, q => (q.VHost, q.Queue));
        var consumersBefore = ByKey(previous?.Consumers, c => (c.ConnectionId, c.Channel, c.ConsumerTag));
        var publishingBefore = ByKey(previous?.Publishing, p => (p.VHost, p.Exchange));

        // Something that appeared since the previous snapshot counted from 0 within the interval; with no
        // previous snapshot there is no interval (seconds is 0), and every rate is 0.
        double PerSecond(long now, long? before) => Rate(before ?? 0, now, seconds);

        var queues = current.Queues.Select(q =>
        {
            var before = queuesBefore.GetValueOrDefault((q.VHost, q.Queue));
            return new QueueReport(
                q.VHost,
                q.Queue,
                q.Ready,
                q.Unacked,
                q.Consumers,
                PerSecond(q.Published, before?.Published),
                PerSecond(q.Delivered, before?.Delivered),
                PerSecond(q.Acked, before?.Acked),
                PerSecond(q.Redelivered, before?.Redelivered),
                q.Paused,
                q.ConsumeLimitPerSecond);
        }).ToList();
        var consumers = current.Consumers.Select(c => new ConsumerReport(
            c.VHost,
            c.Queue,
            c.ConsumerTag,
            c.ClientAddress,
            c.ConnectionName,
            c.Channel,
            c.Prefetch,
            c.Unacked,
            PerSecond(c.Delivered, consumersBefore.GetValueOrDefault((c.ConnectionId, c.Channel, c.ConsumerTag))?.Delivered),
            c.Paused)).ToList();
        var publishing = current.Publishing.Select(p =>
        {
            var before = publishingBefore.GetValueOrDefault((p.VHost, p.Exchange));
            bool throttled = previous is not null && p.ThrottledWaits > (before?.ThrottledWaits ?? 0);
            return new PublishReport(p.VHost, p.Exchange, PerSecond(p.Published, before?.Published), throttled);
        }).ToList();

        return new GatewayReport(
            identity.NodeId,
            identity.AmqpEndpoint,
            identity.MetricsUrl,
            identity.StartedAt,
            appliedETag,
            current.Connections,
            current.Channels,
            queues,
            consumers,
            publishing);
    }

    /// <summary>The first entry per key: a snapshot listing something twice must not stop the heartbeats.</summary>
    private static Dictionary<TKey, T> ByKey<TKey, T>(IReadOnlyList<T>? items, Func<T, TKey> key)
        where TKey : notnull
    {
        var byKey = new Dictionary<TKey, T>();
        foreach (var item in items ?? [])
        {
            byKey.TryAdd(key(item), item);
        }

        return byKey;
    }

    /// <summary>Growth per second; a counter that went down was restarted (its queue re-created), so all of it is new.</summary>
    private static double Rate(long before, long now, double seconds)
    {
        if (seconds <= 0)
        {
            return 0;
        }

        long growth = now >= before ? now - before : now;
        return growth / seconds;
    }
}
