namespace Gateway.Broker.Traffic;

/// <summary>
/// A token bucket on an injected clock: <see cref="RatePerSecond"/> tokens a second, at most
/// <see cref="Capacity"/> saved up. The consume limit takes one token per delivery at the dispatch point,
/// the publish limit one per basic.publish. Design: docs/traffic-control.md.
/// </summary>
/// <remarks>
/// Hand-written rather than System.Threading.RateLimiting's TokenBucketRateLimiter: that one reads
/// Stopwatch rather than a TimeProvider (tests could not drive it with a fake clock), auto-replenishment
/// runs a timer per limiter whether or not anyone waits (an idle throttled queue must cost nothing), it
/// cannot say when the next token is due (the dispatcher arms its one wake-up timer for exactly then),
/// and its permits are whole per period while a gateway's share of a global limit may be 0.5 a second.
/// Gateway.Broker would also have to take a package for it; the arithmetic below is all that is needed.
/// </remarks>
public sealed class TokenBucket
{
    /// <summary>The capacity is this much of a second's tokens: small, so a limit never lets a large burst through after idle.</summary>
    private const double CapacitySeconds = 0.1;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private long _refilledAt;

    public TokenBucket(double ratePerSecond, TimeProvider time)
    {
        _time = time;
        _refilledAt = time.GetTimestamp();
        SetRateLocked(ratePerSecond);
        _tokens = RatePerSecond > 0 ? Capacity : 0;
    }

    public double RatePerSecond { get; private set; }

    /// <summary>The most tokens saved up: a tenth of a second's worth, at least one.</summary>
    public double Capacity { get; private set; }

    /// <summary>Changes the rate; tokens saved so far stay (up to the new capacity).</summary>
    public void SetRate(double ratePerSecond)
    {
        lock (_lock)
        {
            Refill();
            SetRateLocked(ratePerSecond);
            _tokens = RatePerSecond > 0 ? Math.Min(_tokens, Capacity) : Math.Min(_tokens, 0);
        }
    }

    /// <summary>Whole tokens available now, at most <paramref name="max"/>; takes none.</summary>
    public int Available(int max)
    {
        lock (_lock)
        {
            Refill();
            return (int)Math.Min(max, Math.Floor(_tokens));
        }
    }

    /// <summary>Takes <paramref name="count"/> tokens (after <see cref="Available"/> said they are there, under the caller's own serialisation).</summary>
    public void Take(int count)
    {
        lock (_lock)
        {
            Refill();
            _tokens -= count;
        }
    }

    /// <summary>Takes one token if one is there.</summary>
    public bool TryTake()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }

    /// <summary>Gives back a token taken by a caller that then could not use it.</summary>
    public void Return(int count = 1)
    {
        lock (_lock)
        {
            _tokens = Math.Min(Capacity, _tokens + count);
        }
    }

    /// <summary>
    /// How long until a whole token is there: zero if one is now, <see cref="Timeout.InfiniteTimeSpan"/> at
    /// rate 0 (nothing until the limit changes). Rounded up to a millisecond, so a timer set for it finds the token.
    /// </summary>
    public TimeSpan TimeUntilAvailable()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens >= 1)
            {
                return TimeSpan.Zero;
            }

            if (RatePerSecond <= 0)
            {
                return Timeout.InfiniteTimeSpan;
            }

            double milliseconds = Math.Ceiling((1 - _tokens) / RatePerSecond * 1000);
            return TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 1, TimeSpan.FromDays(1).TotalMilliseconds));
        }
    }

    private void SetRateLocked(double ratePerSecond)
    {
        RatePerSecond = double.IsFinite(ratePerSecond) && ratePerSecond > 0 ? ratePerSecond : 0;
        Capacity = Math.Max(1, RatePerSecond * CapacitySeconds);
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        double seconds = (now - _refilledAt) / (double)_time.TimestampFrequency;
        _refilledAt = now;
        if (seconds > 0)
        {
            _tokens = Math.Min(Capacity, _tokens + seconds * RatePerSecond);
        }
    }
}
