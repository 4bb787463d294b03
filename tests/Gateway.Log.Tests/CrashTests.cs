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
        for (int round = 0; round < 50; round++)
        {
            List<string> lines = await RunAndKillAsync("crash-child", dir.Path, round, random);
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

    /// <summary>
    /// The same for consumption state, with checkpoints and segment reclamation running in the child:
    /// after each SIGKILL every completed append the child never began to settle must be ready again
    /// (intact, at its offset), and no durably settled one may come back. (One settled but not yet
    /// flushed may go either way: that is the documented redelivery window.)
    /// </summary>
    [Fact]
    public async Task Unsettled_messages_survive_SIGKILL_and_durably_settled_ones_do_not_return()
    {
        using var dir = new TempDir();
        var random = new Random(5);
        var acked = new Dictionary<long, long>();   // offset → seq
        var settling = new HashSet<long>();   // may have been settled
        var settled = new HashSet<long>();    // settled and flushed
        for (int round = 0; round < 30; round++)
        {
            foreach (string line in await RunAndKillAsync("consume-child", dir.Path, round, random))
            {
                string[] parts = line.Split(' ');
                if (parts is ["ack", string s, string o])
                {
                    acked[long.Parse(o, CultureInfo.InvariantCulture)] = long.Parse(s, CultureInfo.InvariantCulture);
                }
                else if (parts is ["settling", string maybe])
                {
                    settling.Add(long.Parse(maybe, CultureInfo.InvariantCulture));
                }
                else if (parts is ["settled", string offset])
                {
                    settled.Add(long.Parse(offset, CultureInfo.InvariantCulture));
                }
            }

            await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(
                new CommitLogOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }, new MessageLogOptions { MaintenanceInterval = null });
            var ready = new HashSet<long>();
            foreach (TakenMessage taken in log.TakeReady("q", int.MaxValue))
            {
                long offset = taken.Message.Offset;
                Assert.False(settled.Contains(offset), $"round {round}: durably settled offset {offset} delivered again");
                long seq = BinaryPrimitives.ReadInt64LittleEndian(taken.Message.Properties.Span);
                Assert.Equal(CrashChild.Record(seq).Body.ToArray(), taken.Message.Body.ToArray());
                if (acked.TryGetValue(offset, out long ackedSeq))
                {
                    Assert.Equal(ackedSeq, seq);
                }

                ready.Add(offset);
            }

            foreach (long offset in acked.Keys.Where(o => !settling.Contains(o)))
            {
                Assert.True(ready.Contains(offset), $"round {round}: unsettled offset {offset} lost");
            }
        }

        Assert.True(settled.Count >= 100, $"only {settled.Count} settles reported");

        // Whatever the kills left: once everything is settled, one maintenance pass reclaims all but the active segment.
        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(
            new CommitLogOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }, new MessageLogOptions { MaintenanceInterval = null }))
        {
            foreach (TakenMessage taken in log.TakeReady("q", int.MaxValue))
            {
                Assert.True(log.Settle("q", taken.Message.Offset));
            }

            await log.RunMaintenanceAsync();
            Assert.Single(Directory.GetFiles(dir.Path, "*.seg"));
        }
    }

    /// <summary>
    /// Atomic batches under SIGKILL at random moments, 30 times on the same log: every batch found after
    /// recovery is complete (all its records, in order, contiguous), and every batch the child reported
    /// durable is there.
    /// </summary>
    [Fact]
    public async Task Batches_survive_SIGKILL_whole_or_not_at_all()
    {
        using var dir = new TempDir();
        var random = new Random(6);
        var acked = new HashSet<long>();
        for (int round = 0; round < 30; round++)
        {
            foreach (string line in await RunAndKillAsync("batch-child", dir.Path, round, random))
            {
                if (line.Split(' ') is ["ack", string b, _])
                {
                    acked.Add(long.Parse(b, CultureInfo.InvariantCulture));
                }
            }

            await using CommitLog log = CommitLog.Open(new CommitLogOptions { Directory = dir.Path, SegmentSize = 256 * 1024 });
            var found = new HashSet<long>();
            long open = -1;
            int expected = 0, count = 0;
            foreach (CommitLogRecord record in log.ReadFrom(0))
            {
                (long batch, int index, int size) = BatchAppendTests.BatchTag(record.Properties.Span);
                if (open < 0)
                {
                    Assert.Equal(0, index);
                    (open, expected, count) = (batch, size, 0);
                }

                Assert.Equal(open, batch);
                Assert.Equal(count, index);
                Assert.Equal(CrashChild.Record((batch * 100) + index).Body.ToArray(), record.Body.ToArray());
                if (++count == expected)
                {
                    Assert.True(found.Add(batch), $"round {round}: batch {batch} twice");
                    open = -1;
                }
            }

            Assert.True(open < 0, $"round {round}: batch {open} recovered with {count} of its {expected} records");
            Assert.Subset(found, acked);
        }

        Assert.True(acked.Count >= 30);
    }

    private static async Task<List<string>> RunAndKillAsync(string mode, string directory, int round, Random random)
    {
        string self = typeof(CrashChild).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "exec", self, mode, directory, (round * 1_000_000L).ToString(CultureInfo.InvariantCulture) })
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
        return lines;
    }
}
