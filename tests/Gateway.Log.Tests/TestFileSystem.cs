using Gateway.Log.Storage;

namespace Gateway.Log.Tests;

/// <summary>A unique temporary directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gateway-log-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

/// <summary>
/// The real file system with hooks: counts fsyncs, can hold them at a gate, and can inject
/// IOExceptions into writes, fsyncs or segment creation.
/// </summary>
internal sealed class TestFileSystem : ILogFileSystem
{
    private int _flushes;
    private int _writes;
    private int _directorySyncs;

    public int Flushes => Volatile.Read(ref _flushes);

    public int Writes => Volatile.Read(ref _writes);

    /// <summary>When set, every fsync signals <see cref="FlushEntered"/> and then waits for this gate.</summary>
    public SemaphoreSlim? FlushGate { get; set; }

    public SemaphoreSlim FlushEntered { get; } = new(0);

    /// <summary>Returns an exception to throw instead of a write (after writing the first half of it, like a torn write), or null.</summary>
    public Func<IOException?> WriteFault { get; set; } = () => null;

    public Func<IOException?> FlushFault { get; set; } = () => null;

    public Func<IOException?> CreateFault { get; set; } = () => null;

    public IReadOnlyList<string> List(string directory, string pattern) => OsLogFileSystem.Instance.List(directory, pattern);

    public ILogFile Create(string path, long length)
    {
        if (CreateFault() is { } fault)
        {
            throw fault;
        }

        return new File(this, OsLogFileSystem.Instance.Create(path, length));
    }

    public ILogFile Open(string path) => new File(this, OsLogFileSystem.Instance.Open(path));

    public void Delete(string path) => OsLogFileSystem.Instance.Delete(path);

    public int DirectorySyncs => Volatile.Read(ref _directorySyncs);

    public void SyncDirectory(string directory)
    {
        Interlocked.Increment(ref _directorySyncs);
        OsLogFileSystem.Instance.SyncDirectory(directory);
    }

    private sealed class File(TestFileSystem owner, ILogFile inner) : ILogFile
    {
        public long Length => inner.Length;

        public void SetLength(long length) => inner.SetLength(length);

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref owner._writes);
            if (owner.WriteFault() is { } fault)
            {
                inner.Write(offset, data[..(data.Length / 2)]);
                throw fault;
            }

            inner.Write(offset, data);
        }

        public int Read(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

        public void Flush()
        {
            Interlocked.Increment(ref owner._flushes);
            if (owner.FlushGate is { } gate)
            {
                owner.FlushEntered.Release();
                gate.Wait();
            }

            if (owner.FlushFault() is { } fault)
            {
                throw fault;
            }

            inner.Flush();
        }

        public void Dispose() => inner.Dispose();
    }
}
