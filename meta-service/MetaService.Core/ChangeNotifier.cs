using System.Collections.Concurrent;

namespace MetaService.Core;

/// <summary>
/// Wakes change-feed long polls in this process as soon as a store here commits a change. Shared by
/// every store on the same database (keyed by connection string), so two stores in one process see
/// each other at once; changes from other processes are found by the feed's periodic poll.
/// </summary>
internal sealed class ChangeNotifier
{
    private static readonly ConcurrentDictionary<string, ChangeNotifier> ByDatabase = new(StringComparer.Ordinal);

    private TaskCompletionSource _next = NewSource();

    public static ChangeNotifier For(string databaseKey) => ByDatabase.GetOrAdd(databaseKey, _ => new ChangeNotifier());

    /// <summary>A task that completes at the next <see cref="Notify"/>. Take it before looking for changes, so none is missed.</summary>
    public Task NextChange => Volatile.Read(ref _next).Task;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
