using Gateway.Broker.Traffic;
using Prometheus;

namespace Gateway.Server.Control;

/// <summary>
/// Publishing into one vhost as the publish limits see it: its vhost-wide limit (all exchanges) and how many
/// publishes had to wait. One per vhost, made on first use and kept.
/// </summary>
internal sealed class VirtualHostPublishing(string name, Counter.Child throttled)
{
    private volatile TokenBucket? _limit;

    public string Name { get; } = name;

    /// <summary>The vhost-wide limit's bucket; null without one.</summary>
    public TokenBucket? Limit
    {
        get => _limit;
        set => _limit = value;
    }

    public void CountThrottled() => throttled.Inc();
}

/// <summary>
/// Publishing into one exchange of a vhost ("" the default exchange): the basic.publish count, the
/// publishes that waited for a limit, and the exchange's own limit. A channel keeps the one it last
/// published to, so a publish costs one string comparison, an interlocked increment and two null checks
/// while no limit applies.
/// </summary>
internal sealed class ExchangePublishing(VirtualHostPublishing virtualHost, string exchange)
{
    private volatile TokenBucket? _limit;
    private volatile bool _retired;
    private long _published;
    private long _throttledWaits;
    private long _publishedAtLastSweep;

    public VirtualHostPublishing VirtualHost { get; } = virtualHost;

    public string Exchange { get; } = exchange;

    public TokenBucket? Limit
    {
        get => _limit;
        set => _limit = value;
    }

    public long Published => Interlocked.Read(ref _published);

    public long ThrottledWaits => Interlocked.Read(ref _throttledWaits);

    /// <summary>A vhost-wide or exchange limit is in force.</summary>
    public bool IsLimited => _limit is not null || VirtualHost.Limit is not null;

    public void CountPublished() => Interlocked.Increment(ref _published);

    /// <summary>Dropped from the gateway's table as idle; a channel holding it looks its exchange up again.</summary>
    public bool Retired => _retired;

    /// <summary>
    /// For the idle sweep (under the table's lock): true, and retired, when no limit of its own is set and nothing
    /// was published through it since the previous sweep; otherwise it remembers the count for the next one.
    /// </summary>
    public bool RetireIfIdle()
    {
        long published = Published;
        if (_limit is null && published == _publishedAtLastSweep)
        {
            _retired = true;
            return true;
        }

        _publishedAtLastSweep = published;
        return false;
    }

    public void CountThrottled()
    {
        Interlocked.Increment(ref _throttledWaits);
        VirtualHost.CountThrottled();
    }

    /// <summary>
    /// A token from every limit in force (a publish needs one from the vhost's and one from the exchange's):
    /// zero when taken, else how long until the scarcer one has a token (nothing taken then).
    /// <see cref="Timeout.InfiniteTimeSpan"/> while a limit of 0 holds everything until it changes.
    /// </summary>
    public TimeSpan TryAcquire()
    {
        TokenBucket? virtualHostLimit = VirtualHost.Limit;
        TokenBucket? exchangeLimit = _limit;
        TimeSpan wait = Longer(virtualHostLimit?.TimeUntilAvailable() ?? TimeSpan.Zero, exchangeLimit?.TimeUntilAvailable() ?? TimeSpan.Zero);
        if (wait != TimeSpan.Zero)
        {
            return wait;
        }

        if (virtualHostLimit is not null && !virtualHostLimit.TryTake())
        {
            return MinimumRetry;   // another connection took it first
        }

        if (exchangeLimit is not null && !exchangeLimit.TryTake())
        {
            virtualHostLimit?.Return();
            return MinimumRetry;
        }

        return TimeSpan.Zero;
    }

    private static readonly TimeSpan MinimumRetry = TimeSpan.FromMilliseconds(1);

    private static TimeSpan Longer(TimeSpan a, TimeSpan b) =>
        a == Timeout.InfiniteTimeSpan || b == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : a > b ? a : b;
}
