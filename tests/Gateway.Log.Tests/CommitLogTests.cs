using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

public sealed class CommitLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static LogMessage Message(int seed, int bodySize, params string[] topics)
    {
        var random = new Random(seed);
        byte[] properties = new byte[random.Next(0, 40)];
        byte[] body = new byte[bodySize];
        random.NextBytes(properties);
        random.NextBytes(body);
        return new LogMessage(properties, body, 1_700_000_000_000 + seed, topics.Length == 0 ? ["q"] : topics, (uint)seed * 2654435761u);
    }

    /// <summary>A message whose record size depends only on <paramref name="bodySize"/>.</summary>
    internal static LogMessage Sized(int seed, int bodySize)
    {
        LogMessage m = Message(seed, bodySize, "q");
        return m with { Properties = new byte[8] { 1, 2, 3, 4, 5, 6, 7, (byte)seed } };
    }

    internal static void AssertSame(LogMessage expected, CommitLogRecord actual)
    {
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        Assert.Equal(expected.RoutingKeyHash, actual.RoutingKeyHash);
        Assert.Equal(expected.Topics, actual.Topics);
        Assert.Equal(expected.Properties.ToArray(), actual.Properties.ToArray());
        Assert.Equal(expected.Body.ToArray(), actual.Body.ToArray());
    }

    private CommitLogOptions Options(TestFileSystem? fs = null, long segmentSize = 64 * 1024, FsyncPolicy policy = FsyncPolicy.Always) => new()
    {
        Directory = _dir.Path,
        SegmentSize = segmentSize,
        FsyncPolicy = policy,
        FileSystem = fs ?? new TestFileSystem(),
    };

    [Fact]
    public async Task Appended_records_read_back_intact_before_and_after_reopening()
    {
        var messages = new List<LogMessage>
        {
            Message(1, 0, "a"),
            Message(2, 1, "a", "b", "c"),
            Message(3, 1000, "queue.with.a.long.name", "ü-ñ"),
            Message(4, 5000, "b"),
        };
        var positions = new List<long>();
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            foreach (LogMessage m in messages)
            {
                positions.Add(await log.AppendAsync(m));
            }

            for (int i = 0; i < messages.Count; i++)
            {
                AssertSame(messages[i], log.Read(positions[i]));
            }
        }

        await using (CommitLog log = CommitLog.Open(Options()))
        {
            Assert.Equal(messages.Count, log.Recovery.Records);
            Assert.Equal(0, log.Recovery.TruncatedBytes);
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(positions, all.Select(r => r.Position));
            for (int i = 0; i < messages.Count; i++)
            {
                AssertSame(messages[i], all[i]);
            }

            // Appending continues after the recovered end.
            long next = await log.AppendAsync(Message(5, 10));
            Assert.Equal(all[^1].Position + all[^1].Length, next);
        }
    }

    [Fact]
    public async Task Records_spill_into_new_segments_including_one_larger_than_a_segment()
    {
        var messages = Enumerable.Range(0, 40).Select(i => Message(i, i == 20 ? 10_000 : 700)).ToList();
        var positions = new List<long>();
        var fs = new TestFileSystem();
        await using (CommitLog log = CommitLog.Open(Options(fs, segmentSize: 4096)))
        {
            foreach (LogMessage m in messages)
            {
                positions.Add(await log.AppendAsync(m));
            }
        }

        int segments = Directory.GetFiles(_dir.Path, "*.seg").Length;
        Assert.True(segments > 5);
        Assert.True(fs.DirectorySyncs >= segments, "every new segment's directory entry is fsynced");
        await using (CommitLog log = CommitLog.Open(Options(segmentSize: 4096)))
        {
            Assert.Equal(messages.Count, log.Recovery.Records);
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(positions, all.Select(r => r.Position));
            for (int i = 0; i < messages.Count; i++)
            {
                AssertSame(messages[i], all[i]);
                AssertSame(messages[i], log.Read(positions[i]));
            }
        }
    }

    [Fact]
    public async Task Concurrent_appends_share_fsyncs()
    {
        using var gate = new SemaphoreSlim(0);
        var fs = new TestFileSystem();
        await using CommitLog log = CommitLog.Open(Options(fs, segmentSize: 1024 * 1024));
        int before = fs.Flushes;
        fs.FlushGate = gate;

        // The first append's fsync is held; the 200 appended meanwhile queue up behind it.
        ValueTask<long> first = log.AppendAsync(Message(0, 100));
        Assert.True(await fs.FlushEntered.WaitAsync(TimeSpan.FromSeconds(10)));
        var rest = Enumerable.Range(1, 200).Select(i => log.AppendAsync(Message(i, 100)).AsTask()).ToList();
        fs.FlushGate = null;
        gate.Release();

        await first;
        long[] positions = await Task.WhenAll(rest);

        Assert.Equal(200, positions.Distinct().Count());
        int flushes = fs.Flushes - before;
        Assert.True(flushes <= 3, $"201 appends took {flushes} fsyncs");
    }

    [Fact]
    public async Task An_append_does_not_complete_before_its_fsync_returns()
    {
        using var gate = new SemaphoreSlim(0);
        var fs = new TestFileSystem();
        await using CommitLog log = CommitLog.Open(Options(fs));
        fs.FlushGate = gate;

        Task<long> append = log.AppendAsync(Message(1, 100)).AsTask();
        Assert.True(await fs.FlushEntered.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, fs.Writes);   // written, but its fsync has not returned
        await Task.Delay(50);
        Assert.False(append.IsCompleted);
        Assert.Equal(0, log.EndPosition);   // not visible to readers either

        fs.FlushGate = null;
        gate.Release();
        long position = await append;
        AssertSame(Message(1, 100), log.Read(position));
    }

    [Theory]
    [InlineData("write")]
    [InlineData("fsync")]
    [InlineData("create-segment")]
    public async Task A_failed_disk_write_fails_the_append_cleanly_and_spares_earlier_records(string fault)
    {
        var fs = new TestFileSystem();
        var options = Options(fs, segmentSize: 4096);
        LogMessage a = Message(1, 1000), b = Message(2, 1500), c = Message(3, 200);
        long posA, posC;
        await using (CommitLog log = CommitLog.Open(options))
        {
            posA = await log.AppendAsync(a);
            if (fault == "create-segment")
            {
                // Fill the segment so that b needs a new one.
                await log.AppendAsync(Message(9, 2500));
            }

            bool armed = true;
            IOException? Once()
            {
                if (!armed)
                {
                    return null;
                }

                armed = false;
                return new IOException("No space left on device");
            }

            switch (fault)
            {
                case "write": fs.WriteFault = Once; break;
                case "fsync": fs.FlushFault = Once; break;
                default: fs.CreateFault = Once; break;
            }

            MessageLogWriteException error = await Assert.ThrowsAsync<MessageLogWriteException>(() => log.AppendAsync(b).AsTask());
            Assert.Equal("No space left on device", error.InnerException?.Message);

            // Writing resumes once the fault is gone, and nothing earlier was damaged.
            posC = await log.AppendAsync(c);
            AssertSame(a, log.Read(posA));
            AssertSame(c, log.Read(posC));
        }

        await using (CommitLog log = CommitLog.Open(Options(segmentSize: 4096)))
        {
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.DoesNotContain(all, r => r.Body.Span.SequenceEqual(b.Body.Span));
            AssertSame(a, all[0]);
            AssertSame(c, all[^1]);
            Assert.Equal(posC, all[^1].Position);
        }
    }

    [Fact]
    public async Task A_failed_batch_cannot_resurface_after_a_shorter_successful_one()
    {
        using var gate = new SemaphoreSlim(0);
        var fs = new TestFileSystem();
        LogMessage b1 = Sized(11, 100), b2 = Sized(12, 300), c = Sized(13, 100);
        await using (CommitLog log = CommitLog.Open(Options(fs)))
        {
            // Hold one fsync so that b1 and b2 are written together in the next batch, whose fsync fails.
            fs.FlushGate = gate;
            ValueTask<long> first = log.AppendAsync(Message(10, 10));
            Assert.True(await fs.FlushEntered.WaitAsync(TimeSpan.FromSeconds(10)));
            Task<long> t1 = log.AppendAsync(b1).AsTask(), t2 = log.AppendAsync(b2).AsTask();
            fs.FlushGate = null;
            int failures = 1;
            int held = fs.Flushes;
            fs.FlushFault = () => fs.Flushes > held && Interlocked.Exchange(ref failures, 0) == 1 ? new IOException("EIO") : null;
            gate.Release();
            await first;
            await Assert.ThrowsAsync<MessageLogWriteException>(() => t1);
            await Assert.ThrowsAsync<MessageLogWriteException>(() => t2);

            // c is exactly as long as b1, so without clearing, b2 would sit intact right after it.
            long posC = await log.AppendAsync(c);
            Assert.Equal(log.Read(posC).Position, posC);
        }

        await using (CommitLog log = CommitLog.Open(Options()))
        {
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(2, all.Count);
            AssertSame(c, all[1]);
        }
    }

    [Fact]
    public async Task Recovery_clears_the_corrupt_tail_so_later_records_cannot_resurface()
    {
        LogMessage r1 = Sized(21, 100), r2 = Sized(22, 100), r3 = Sized(23, 100), c = Sized(24, 100);
        long pos2;
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            await log.AppendAsync(r1);
            pos2 = await log.AppendAsync(r2);
            await log.AppendAsync(r3);
        }

        string file = Directory.GetFiles(_dir.Path, "*.seg").Single();
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = pos2 + 50;
            stream.WriteByte(0xEE);
        }

        await using (CommitLog log = CommitLog.Open(Options()))
        {
            Assert.Equal(1, log.Recovery.Records);
            Assert.True(log.Recovery.TruncatedBytes > 0);
            Assert.Equal(pos2, await log.AppendAsync(c));   // same size as r2: r3 would follow it intact
        }

        await using (CommitLog log = CommitLog.Open(Options()))
        {
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(2, all.Count);
            AssertSame(r1, all[0]);
            AssertSame(c, all[1]);
        }
    }
}

public sealed class FsyncPolicyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Interval_completes_before_fsync_and_fsyncs_when_idle()
    {
        using var gate = new SemaphoreSlim(0);
        var fs = new TestFileSystem();
        // The interval is long enough for 20 page-cache appends on a loaded CI machine; if an fsync
        // still falls due during them, the watcher below releases it and the test fails instead of hanging.
        await using CommitLog log = CommitLog.Open(new CommitLogOptions
        {
            Directory = _dir.Path,
            SegmentSize = 64 * 1024,
            FsyncPolicy = FsyncPolicy.Interval,
            FsyncInterval = TimeSpan.FromSeconds(3),
            FileSystem = fs,
        });
        long before = log.Fsyncs;
        fs.FlushGate = gate;
        bool appending = true;
        bool fsyncWhileAppending = false;
        Task watcher = Task.Run(async () =>
        {
            await fs.FlushEntered.WaitAsync();
            fsyncWhileAppending = Volatile.Read(ref appending);
            fs.FlushGate = null;
            gate.Release();
        });

        // Completes although no fsync can finish: Interval promises only the page cache.
        for (int i = 0; i < 20; i++)
        {
            await log.AppendAsync(CommitLogTests.Message(i, 100));
        }

        Volatile.Write(ref appending, false);

        // Then the idle writer fsyncs once the interval is up (held at the gate until the watcher releases it).
        Assert.True(await Task.WhenAny(watcher, Task.Delay(TimeSpan.FromSeconds(15))) == watcher, "no fsync after the interval");
        Assert.False(fsyncWhileAppending, "an fsync fell due while appending; the interval is too short for this machine");
        Assert.InRange(log.Fsyncs - before, 1, 2);
    }

    [Fact]
    public async Task None_does_not_fsync_per_append()
    {
        var fs = new TestFileSystem();
        await using CommitLog log = CommitLog.Open(new CommitLogOptions
        {
            Directory = _dir.Path,
            SegmentSize = 64 * 1024,
            FsyncPolicy = FsyncPolicy.None,
            FileSystem = fs,
        });
        long before = log.Fsyncs;
        for (int i = 0; i < 20; i++)
        {
            await log.AppendAsync(CommitLogTests.Message(i, 100));
        }

        Assert.Equal(before, log.Fsyncs);
    }
}
