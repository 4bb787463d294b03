using System.Collections.Immutable;
using Controller.Contracts;

namespace Controller.Service.Cluster;

/// <summary>
/// The operators' rules at one moment, immutable and in a canonical order (so equal rule sets hash to equal
/// ETags on every instance): pauses by vhost, queue, id; limits by vhost and queue or exchange.
/// </summary>
internal sealed class RuleSet
{
    public static readonly RuleSet Empty = new([], [], []);

    public RuleSet(IEnumerable<PauseRule> pauses, IEnumerable<ConsumeLimit> consumeLimits, IEnumerable<PublishLimit> publishLimits)
    {
        Pauses = [.. pauses.OrderBy(p => p.VHost, StringComparer.Ordinal).ThenBy(p => p.Queue, StringComparer.Ordinal).ThenBy(p => p.Id, StringComparer.Ordinal)];
        ConsumeLimits = [.. consumeLimits.OrderBy(l => l.VHost, StringComparer.Ordinal).ThenBy(l => l.Queue, StringComparer.Ordinal)];
        // A whole-vhost limit (no exchange) sorts before the exchanges of its vhost.
        PublishLimits = [.. publishLimits.OrderBy(l => l.VHost, StringComparer.Ordinal).ThenBy(l => l.Exchange is not null).ThenBy(l => l.Exchange, StringComparer.Ordinal)];
    }

    public ImmutableArray<PauseRule> Pauses { get; }

    public ImmutableArray<ConsumeLimit> ConsumeLimits { get; }

    public ImmutableArray<PublishLimit> PublishLimits { get; }

    public RuleSet With(IEnumerable<PauseRule>? pauses = null, IEnumerable<ConsumeLimit>? consumeLimits = null, IEnumerable<PublishLimit>? publishLimits = null) =>
        new(pauses ?? Pauses, consumeLimits ?? ConsumeLimits, publishLimits ?? PublishLimits);
}
