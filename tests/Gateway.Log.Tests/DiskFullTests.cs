using System.Diagnostics;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Out of space on a real file system: a 1 MiB tmpfs mounted for the test (the CI machine and the
/// development machines run the tests as root; injected write/fsync faults are covered in
/// <see cref="CommitLogTests"/>). Appends must fail with the exception the gateway turns into a
/// publisher nack, nothing completed may be damaged, and appends must resume once space returns.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TempDir _mountPoint = new();

    public DiskFullTests() => Mount("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _mountPoint.Path);

    public void Dispose()
    {
        Mount("umount", _mountPoint.Path);
        _mountPoint.Dispose();
    }

    [Fact]
    public async Task Appends_fail_cleanly_when_the_disk_is_full_and_resume_when_space_returns()
    {
        string directory = Path.Combine(_mountPoint.Path, "log");
        var logOptions = new CommitLogOptions { Directory = directory, SegmentSize = 128 * 1024 };
        var options = new MessageLogOptions { MaintenanceInterval = null };
        var completed = new List<(LogMessage Message, long Offset)>();
        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(logOptions, options))
        {
            await log.CreateTopicAsync("q");
            MessageLogWriteException? full = null;
            for (int i = 0; i < 1000 && full is null; i++)
            {
                LogMessage message = CommitLogTests.Message(i, 4000, "q");
                try
                {
                    completed.Add((message, (await log.AppendAsync(message)).TopicOffsets[0]));
                }
                catch (MessageLogWriteException ex)
                {
                    full = ex;
                }
            }

            Assert.NotNull(full);
            IOException cause = Assert.IsAssignableFrom<IOException>(full.InnerException);
            Assert.Matches("(?i)no space|disk was full", cause.Message);
            Assert.InRange(completed.Count, 100, 260);   // about 1 MiB of 4 KB messages
            await Assert.ThrowsAsync<MessageLogWriteException>(async () => await log.AppendAsync(CommitLogTests.Message(5000, 4000, "q")));
            AssertAllReadable(log, completed);

            // Space returns: the very next append succeeds, with the next offset.
            Mount("mount", "-o", "remount,size=4m", _mountPoint.Path);
            LogMessage after = CommitLogTests.Message(6000, 4000, "q");
            Assert.Equal(completed.Count, (await log.AppendAsync(after)).TopicOffsets[0]);
            completed.Add((after, completed.Count));
            AssertAllReadable(log, completed);
        }

        await using (EmbeddedMessageLog reopened = EmbeddedMessageLog.Open(logOptions, options))
        {
            Assert.Equal(completed.Count, reopened.EndOffset("q"));
            AssertAllReadable(reopened, completed);
        }
    }

    private static void AssertAllReadable(EmbeddedMessageLog log, List<(LogMessage Message, long Offset)> completed)
    {
        IReadOnlyList<StoredMessage> stored = log.Read("q", 0, int.MaxValue);
        Assert.Equal(completed.Count, stored.Count);
        foreach ((LogMessage message, long offset) in completed)
        {
            Assert.Equal(message.Body.ToArray(), stored[(int)offset].Body.ToArray());
        }
    }

    private static void Mount(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{command} {string.Join(' ', arguments)}' failed ({error.Trim()}): the disk-full test mounts a small tmpfs and needs root (CAP_SYS_ADMIN).");
        }
    }
}
