using CsCheck;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Damage the tail of the log at a random point, in one of several ways, and reopen: every record
/// that ended before the damage reads back intact, recovery keeps only a prefix of what was
/// written, nothing corrupt is ever returned, and the log accepts appends again.
/// </summary>
public sealed class RecoveryPropertyTests
{
    private enum Damage
    {
        /// <summary>Shorten the file (a crash before the size was extended, or an external truncation).</summary>
        Truncate,

        /// <summary>Zero from the point on (pages that never reached the disk).</summary>
        ZeroFrom,

        /// <summary>Flip bits in a run of bytes (a torn sector, bit rot in the tail).</summary>
        Flip,

        /// <summary>Overwrite from the point with random bytes (garbage after a torn write).</summary>
        Garbage,
    }

    [Fact]
    public async Task Recovery_keeps_exactly_the_intact_prefix()
    {
        Gen<(int Seed, int[] Sizes, Damage Damage, double Where, int Run)> gen =
            Gen.Select(
                Gen.Int[0, 1_000_000],
                Gen.Int[0, 3000].Array[1, 30],
                Gen.Enum<Damage>(),
                Gen.Double[0, 1.1],
                Gen.Int[1, 64]);

        await gen.SampleAsync(
            t => CheckAsync(t.Seed, t.Sizes, t.Damage, t.Where, t.Run),
            iter: 80,
            threads: 1);
    }

    private static async Task CheckAsync(int seed, int[] sizes, Damage damage, double where, int run)
    {
        using var dir = new TempDir();
        var options = new CommitLogOptions { Directory = dir.Path, SegmentSize = 256 * 1024, FsyncPolicy = FsyncPolicy.None };
        var messages = sizes.Select((size, i) => CommitLogTests.Message(seed + i, size, "t" + (i % 3))).ToList();
        var extents = new List<(long Start, long End)>();
        await using (CommitLog log = CommitLog.Open(options))
        {
            foreach (LogMessage m in messages)
            {
                long p = await log.AppendAsync(m);
                extents.Add((p, 0));
            }

            for (int i = 0; i < extents.Count; i++)
            {
                extents[i] = (extents[i].Start, i + 1 < extents.Count ? extents[i + 1].Start : log.EndPosition);
            }

            await log.DisposeAsync();
        }

        string file = Directory.GetFiles(dir.Path, "*.seg").Single();
        long dataEnd = extents[^1].End;
        long point = Math.Min((long)(where * dataEnd), options.SegmentSize - 1);
        Corrupt(file, damage, point, run, seed);

        int intactBefore = extents.Count(e => e.End <= point);
        await using (CommitLog log = CommitLog.Open(options))
        {
            List<CommitLogRecord> recovered = [.. log.ReadFrom(0)];
            Assert.True(recovered.Count >= intactBefore, $"{damage} at {point}: kept {recovered.Count}, {intactBefore} ended before the damage");
            Assert.True(recovered.Count <= messages.Count);
            if (damage == Damage.Flip && point < dataEnd)
            {
                // A flipped bit inside record k is always caught, so exactly the records before it survive.
                Assert.Equal(intactBefore, recovered.Count);
            }

            for (int i = 0; i < recovered.Count; i++)
            {
                Assert.Equal(extents[i].Start, recovered[i].Position);
                CommitLogTests.AssertSame(messages[i], recovered[i]);
            }

            Assert.Equal(recovered.Count, log.Recovery.Records);
            long end = recovered.Count == 0 ? 0 : extents[recovered.Count - 1].End;
            Assert.Equal(end, log.EndPosition);

            // The log is writable again, and what follows survives another restart.
            LogMessage after = CommitLogTests.Message(seed - 1, 17, "after");
            long p = await log.AppendAsync(after);
            Assert.Equal(end, p);
            await log.DisposeAsync();
        }

        await using (CommitLog log = CommitLog.Open(options))
        {
            Assert.Equal(0, log.Recovery.TruncatedBytes);
            List<CommitLogRecord> again = [.. log.ReadFrom(0)];
            CommitLogTests.AssertSame(CommitLogTests.Message(seed - 1, 17, "after"), again[^1]);
            await log.DisposeAsync();
        }
    }

    private static void Corrupt(string file, Damage damage, long point, int run, int seed)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        var random = new Random(seed);
        switch (damage)
        {
            case Damage.Truncate:
                stream.SetLength(point);
                break;
            case Damage.ZeroFrom:
                stream.Position = point;
                stream.Write(new byte[stream.Length - point]);
                break;
            case Damage.Flip:
                {
                    int n = (int)Math.Min(run, stream.Length - point);
                    byte[] bytes = new byte[n];
                    stream.Position = point;
                    stream.ReadExactly(bytes);
                    for (int i = 0; i < n; i++)
                    {
                        bytes[i] ^= (byte)random.Next(1, 256);
                    }

                    stream.Position = point;
                    stream.Write(bytes);
                    break;
                }

            default:
                {
                    byte[] bytes = new byte[Math.Min(run * 50, stream.Length - point)];
                    random.NextBytes(bytes);
                    stream.Position = point;
                    stream.Write(bytes);
                    break;
                }
        }
    }
}
