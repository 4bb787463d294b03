namespace Controller.Service.Cluster;

/// <summary>
/// Wakes every waiting long poll at once. A waiter takes <see cref="Next"/> before it reads the state it compares
/// against, so a change that lands between the read and the wait still wakes it; each <see cref="Fire"/> completes
/// the current task and puts a fresh one in its place.
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _next = NewSource();
    private long _fired;

    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>How many times waiters were woken (tests check that what should wake nobody does not).</summary>
    public long FiredCount => Interlocked.Read(ref _fired);

    public void Fire()
    {
        Interlocked.Increment(ref _fired);
        Interlocked.Exchange(ref _next, NewSource()).TrySetResult();
    }

    // Continuations run on the pool, not inside Fire: a hundred waking polls must not run on the caller's thread.
    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
