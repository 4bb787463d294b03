using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Kills a child process that is appending (fsync before completion) with SIGKILL at random
/// moments, 50 times on the same log; after every kill the log must open, every append the child
/// reported complete must read back intact at its position, and every record must be valid.
/// (SIGKILL loses the process, not the page cache: this tests recovery from torn in-process
/// state, not power loss.)
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task Completed_appends_survive_SIGKILL_at_random_moments()
    {
        using var dir = new TempDir();
        var random = new Random(4);
        var acked = new Dictionary<long, long>();
        string self = typeof(CrashChild).Assembly.Location;
        for (int round = 0; round < 50; round++)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "exec", self, "crash-child", dir.Path, (round * 1_000_000L).ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(a);
            }

            using Process child = Process.Start(start)!;
            var lines = new List<string>();
            Task reader = Task.Run(async () =>
            {
                while (await child.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                }
            });

            // Wait for the first completion, then let it run a random while before killing it.
            var wait = Stopwatch.StartNew();
            while (true)
            {
                lock (lines)
                {
                    if (lines.Count > 0)
                    {
                        break;
                    }
                }

                Assert.False(child.HasExited, "crash child exited on its own");
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(20), "crash child never completed an append");
                await Task.Delay(2);
            }

            await Task.Delay(random.Next(0, 60));
            child.Kill();   // SIGKILL on Unix
            await child.WaitForExitAsync();
            await reader;
            foreach (string line in lines)
            {
                string[] parts = line.Split(' ');
                if (parts is ["ack", string s, string p])
                {
                    acked[long.Parse(s, CultureInfo.InvariantCulture)] = long.Parse(p, CultureInfo.InvariantCulture);
                }
            }

            await using CommitLog log = CommitLog.Open(new CommitLogOptions { Directory = dir.Path, SegmentSize = 256 * 1024 });
            var found = new Dictionary<long, CommitLogRecord>();
            foreach (CommitLogRecord record in log.ReadFrom(0))
            {
                long seq = BinaryPrimitives.ReadInt64LittleEndian(record.Properties.Span);
                CommitLogTests.AssertSame(CrashChild.Record(seq), record);
                found[seq] = record;
            }

            foreach ((long seq, long position) in acked)
            {
                Assert.True(found.TryGetValue(seq, out CommitLogRecord? record), $"round {round}: completed append {seq} lost");
                Assert.Equal(position, record.Position);
            }
        }

        Assert.True(acked.Count >= 50);
    }
}
