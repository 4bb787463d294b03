using Gateway.Log.Storage;

namespace Gateway.Log.Commit;

/// <summary>When the commit log fsyncs, and so what a crash can lose. See docs/log-engine.md.</summary>
public enum FsyncPolicy
{
    /// <summary>
    /// Default. An append completes only after an fsync covering it returned. A completed append
    /// survives a process crash, a kernel crash and a power loss. Loss window: none.
    /// </summary>
    Always,

    /// <summary>
    /// An append completes once written to the OS (page cache); the log fsyncs at most every
    /// <see cref="CommitLogOptions.FsyncInterval"/>. Survives a process crash; a kernel crash or
    /// power loss can lose completed appends from the last interval.
    /// </summary>
    Interval,

    /// <summary>
    /// Never fsyncs except when a segment fills and at close. For tests and throwaway data: a
    /// kernel crash or power loss can lose everything written to the current segment.
    /// </summary>
    None,
}

/// <summary>Settings of a <see cref="CommitLog"/>.</summary>
public sealed class CommitLogOptions
{
    /// <summary>The directory holding the segment files; created if missing.</summary>
    public required string Directory { get; init; }

    /// <summary>Size each segment file is preallocated to. A larger record gets a segment of its own size.</summary>
    public long SegmentSize { get; init; } = 64L * 1024 * 1024;

    public FsyncPolicy FsyncPolicy { get; init; } = FsyncPolicy.Always;

    /// <summary>Longest time completed appends stay un-fsynced under <see cref="FsyncPolicy.Interval"/>.</summary>
    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A batch stops collecting appends at this many bytes (it is written with one write call).</summary>
    public int MaxBatchBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Appends waiting for the writer; beyond this, <see cref="CommitLog.AppendAsync"/> waits (back-pressure).</summary>
    public int MaxPendingAppends { get; init; } = 64 * 1024;

    /// <summary>The file layer; tests substitute one that counts, holds or fails fsyncs and writes.</summary>
    internal ILogFileSystem FileSystem { get; init; } = OsLogFileSystem.Instance;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentSize, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingAppends, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FsyncInterval, TimeSpan.Zero);
    }
}

/// <summary>What recovery found when the log was opened.</summary>
/// <param name="Segments">Segment files in use.</param>
/// <param name="Records">Valid records found.</param>
/// <param name="EndPosition">Where the next record will be written.</param>
/// <param name="TruncatedBytes">Bytes of torn or corrupt tail that were zeroed (0 after a clean shutdown).</param>
public sealed record CommitLogRecovery(int Segments, long Records, long EndPosition, long TruncatedBytes);
