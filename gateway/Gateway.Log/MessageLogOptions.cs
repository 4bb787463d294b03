namespace Gateway.Log;

/// <summary>Settings of the <see cref="EmbeddedMessageLog"/> above its commit log. See docs/log-engine.md.</summary>
public sealed class MessageLogOptions
{
    /// <summary>
    /// How often buffered settles are written and fsynced. A crash redelivers at most the messages
    /// settled within the last interval; it never loses an unsettled one.
    /// </summary>
    public TimeSpan StateFlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Memory for sealed index chunks across all topics; beyond it the oldest are dropped and re-read from their files when needed.</summary>
    public long IndexCacheBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// How often retention, checkpointing and segment reclamation run in the background; null runs
    /// them only through <see cref="EmbeddedMessageLog.RunMaintenanceAsync"/> (tests).
    /// </summary>
    public TimeSpan? MaintenanceInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether disposing writes a checkpoint, so the next open replays nothing.</summary>
    public bool CheckpointOnDispose { get; init; } = true;

    /// <summary>The clock retention compares timestamps with (Unix ms).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StateFlushInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(IndexCacheBytes);
        if (MaintenanceInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        }
    }
}
