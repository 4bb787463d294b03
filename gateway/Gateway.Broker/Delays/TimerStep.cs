namespace Gateway.Broker.Delays;

/// <summary>
/// How far ahead the broker's timers are set. A .NET timer cannot wait beyond about 49 days, while a message
/// expiration, an x-expires period or a delay may be longer (RabbitMQ accepts expirations of 2^32 ms and more):
/// a timer is set at most <see cref="Longest"/> ahead, and its owner, woken early, finds nothing due and sets it
/// again. Shared by the expiry sweeps, queue leases and the delay store.
/// </summary>
internal static class TimerStep
{
    public static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    /// <summary>The delay to set a timer to for something due in <paramref name="dueIn"/> (negative: now).</summary>
    public static TimeSpan Toward(TimeSpan dueIn) =>
        dueIn <= TimeSpan.Zero ? TimeSpan.Zero : dueIn < Longest ? dueIn : Longest;

    /// <summary>As <see cref="Toward(TimeSpan)"/>, for a due time <paramref name="dueInMs"/> milliseconds away.</summary>
    public static TimeSpan Toward(long dueInMs) =>
        dueInMs <= 0 ? TimeSpan.Zero : dueInMs < (long)Longest.TotalMilliseconds ? TimeSpan.FromMilliseconds(dueInMs) : Longest;
}
