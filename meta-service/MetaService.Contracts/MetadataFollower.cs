namespace MetaService.Contracts;

/// <summary>Settings of a <see cref="MetadataFollower"/>; every default is stated on its property.</summary>
public sealed record MetadataFollowerOptions
{
    public static MetadataFollowerOptions Default { get; } = new();

    /// <summary>How long one long poll of the change feed waits for a change. Default 30 s.</summary>
    public TimeSpan PollWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The delay before the first retry after a failure; it doubles per failure in a row. Default 200 ms.</summary>
    public TimeSpan MinRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between retries. Default 10 s.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of the retry delays (a fake one in tests). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Told of every failure of the store (service down, timeout…) and the delay before the retry. Default none.</summary>
    public Action<Exception, TimeSpan>? OnRetry { get; init; }
}

/// <summary>
/// Keeps a local copy of the metadata in step with a store: loads a snapshot, then follows the change
/// feed (<see cref="IMetadataStore.GetChangesAsync"/>) from the snapshot's revision, handing every change
/// to a callback exactly once and in revision order. When the store fails (the service is down or
/// restarting) it retries with exponential backoff and resumes from the last revision it applied, so
/// nothing is missed or repeated across a service restart. A gateway builds its cache in the callbacks.
/// </summary>
/// <remarks>
/// A callback that throws stops the follower (<see cref="Completion"/> faults with that exception):
/// skipping the change would leave the copy silently wrong. If the store reports a revision below the one
/// already applied (its database was replaced), the follower reloads the snapshot and calls the snapshot
/// callback again.
/// </remarks>
public sealed class MetadataFollower : IAsyncDisposable
{
    private readonly IMetadataStore _store;
    private readonly Func<MetadataSnapshot, CancellationToken, ValueTask> _onSnapshot;
    private readonly Func<MetadataChange, CancellationToken, ValueTask> _onChange;
    private readonly MetadataFollowerOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _snapshotLoaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private long _revision = -1;

    public MetadataFollower(
        IMetadataStore store,
        Func<MetadataSnapshot, CancellationToken, ValueTask> onSnapshot,
        Func<MetadataChange, CancellationToken, ValueTask> onChange,
        MetadataFollowerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(onSnapshot);
        ArgumentNullException.ThrowIfNull(onChange);
        _store = store;
        _onSnapshot = onSnapshot;
        _onChange = onChange;
        _options = options ?? MetadataFollowerOptions.Default;
    }

    /// <summary>The revision of the last snapshot or change applied; -1 before the first snapshot.</summary>
    public long Revision => Volatile.Read(ref _revision);

    /// <summary>The following loop: completes when the follower is disposed, faults when a callback throws.</summary>
    public Task Completion => _loop ?? throw new InvalidOperationException("the follower has not been started");

    /// <summary>
    /// Starts following. The returned task completes once the first snapshot has been loaded and handed to
    /// the snapshot callback (retrying while the store is unavailable), or fails if <paramref name="cancellationToken"/>
    /// ends that wait first; the follower itself runs on until disposed.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("the follower is already started");
        }

        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        await _snapshotLoaded.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Waits until the follower has applied <paramref name="revision"/> (or a later one).</summary>
    public async Task WaitForRevisionAsync(long revision, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // Read the signal before the revision: an advance in between completes this very signal.
            var advanced = Volatile.Read(ref _advanced);
            if (Revision >= revision)
            {
                return;
            }

            await advanced.Task.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (Exception) when (_loop.IsFaulted)
            {
                // A callback failure was already reported through Completion.
            }
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            var needSnapshot = true;
            while (!stopping.IsCancellationRequested)
            {
                if (needSnapshot)
                {
                    var snapshot = await RetryAsync(_store.GetSnapshotAsync, stopping);
                    await _onSnapshot(snapshot, stopping);
                    Advance(snapshot.Revision);
                    _snapshotLoaded.TrySetResult();
                    needSnapshot = false;
                }

                var after = Revision;
                var batch = await RetryAsync(ct => _store.GetChangesAsync(after, _options.PollWait, ct), stopping);
                if (batch.Revision < after)
                {
                    // The store is behind what we applied: its database was replaced or restored.
                    needSnapshot = true;
                    continue;
                }

                foreach (var change in batch.Changes.OrderBy(c => c.Revision))
                {
                    if (change.Revision <= Revision)
                    {
                        continue; // already applied (a retried request may overlap)
                    }

                    await _onChange(change, stopping);
                    Advance(change.Revision);
                }

                if (batch.Revision > Revision)
                {
                    Advance(batch.Revision);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception e)
        {
            _snapshotLoaded.TrySetException(e);
            Volatile.Read(ref _advanced).TrySetException(e);
            throw;
        }
        finally
        {
            _snapshotLoaded.TrySetCanceled(stopping);
            Volatile.Read(ref _advanced).TrySetCanceled(stopping);
        }
    }

    private void Advance(long revision)
    {
        Volatile.Write(ref _revision, revision);
        var previous = Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>Calls the store until it answers; only the store's failures are retried, never a callback's.</summary>
    private async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken stopping)
    {
        var delay = _options.MinRetryDelay;
        while (true)
        {
            try
            {
                return await call(stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Jitter (±20 %) keeps many gateways from hammering a restarted service in lockstep.
                var jittered = delay * (0.8 + (Random.Shared.NextDouble() * 0.4));
                _options.OnRetry?.Invoke(e, jittered);
                await Task.Delay(jittered, _options.TimeProvider, stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }
}
