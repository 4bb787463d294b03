using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Log.Storage;

/// <summary>
/// The file operations the commit log needs, behind a seam so tests can count fsyncs, hold them,
/// and inject I/O faults (disk full, EIO) without a real failing disk.
/// </summary>
internal interface ILogFileSystem
{
    /// <summary>Full paths of the files in <paramref name="directory"/> matching <paramref name="pattern"/>.</summary>
    IReadOnlyList<string> List(string directory, string pattern);

    /// <summary>Creates (or replaces) a file of <paramref name="length"/> zero bytes, with the space reserved.</summary>
    ILogFile Create(string path, long length);

    /// <summary>Opens an existing file for reading and writing.</summary>
    ILogFile Open(string path);

    void Delete(string path);

    /// <summary>Makes the directory's entries (files created or deleted in it) durable.</summary>
    void SyncDirectory(string directory);
}

/// <summary>One open segment file. Reads and writes are positional and thread-safe.</summary>
internal interface ILogFile : IDisposable
{
    long Length { get; }

    void SetLength(long length);

    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; fewer only at end of file.</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Makes everything written so far durable (fsync).</summary>
    void Flush();
}

/// <summary>The real file system: positional I/O on a <see cref="SafeFileHandle"/>.</summary>
internal sealed partial class OsLogFileSystem : ILogFileSystem
{
    public static OsLogFileSystem Instance { get; } = new();

    public IReadOnlyList<string> List(string directory, string pattern) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, pattern) : [];

    public ILogFile Create(string path, long length)
    {
        SafeFileHandle handle = File.OpenHandle(
            path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, preallocationSize: length);
        try
        {
            RandomAccess.SetLength(handle, length);
            return new OsLogFile(handle);
        }
        catch
        {
            handle.Dispose();
            TryDelete(path);
            throw;
        }
    }

    public ILogFile Open(string path) =>
        new OsLogFile(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read));

    public void Delete(string path) => File.Delete(path);

    /// <summary>
    /// fsync on the directory itself, so a new segment's name survives a power loss. .NET cannot
    /// open a directory as a file, hence libc. No-op on Windows (NTFS journals the entry).
    /// </summary>
    public void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a half-created segment is recreated (FileMode.Create) on the next attempt.
        }
    }

    private sealed class OsLogFile(SafeFileHandle handle) : ILogFile
    {
        public long Length => RandomAccess.GetLength(handle);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Write(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

        public int Read(long offset, Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int n = RandomAccess.Read(handle, buffer[total..], offset + total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total;
        }

        public void Flush() => RandomAccess.FlushToDisk(handle);

        public void Dispose() => handle.Dispose();
    }
}
