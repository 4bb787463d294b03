using System.Buffers.Binary;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Atomic batch appends (<see cref="IMessageLog.AppendBatchAsync"/>, what an AMQP tx.commit uses): the
/// messages of a batch are recovered all together or not at all, whatever point of the batch the disk
/// lost, and a failed write stores none of them.
/// </summary>
public sealed class BatchAppendTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CommitLogOptions Options(TestFileSystem? fs = null, long segmentSize = 64 * 1024) => new()
    {
        Directory = _dir.Path,
        SegmentSize = segmentSize,
        FileSystem = fs ?? new TestFileSystem(),
    };

    private static MessageLogOptions Quiet => new() { MaintenanceInterval = null };

    [Fact]
    public async Task A_batch_is_written_in_order_and_each_message_gets_its_topic_offsets()
    {
        await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(), Quiet);
        await log.CreateTopicAsync("a");
        await log.CreateTopicAsync("b");
        await log.AppendAsync(CommitLogTests.Message(1, 10, "a"));

        LogMessage[] batch = [CommitLogTests.Message(2, 100, "a"), CommitLogTests.Message(3, 200, "a", "b"), CommitLogTests.Message(4, 0, "b")];
        IReadOnlyList<AppendResult> results = await log.AppendBatchAsync(batch);

        Assert.Equal(3, results.Count);
        Assert.Equal([1L], results[0].TopicOffsets);
        Assert.Equal([2L, 0L], results[1].TopicOffsets);
        Assert.Equal([1L], results[2].TopicOffsets);
        Assert.True(results[0].Position < results[1].Position && results[1].Position < results[2].Position);
        Assert.Equal(batch[1].Body.ToArray(), log.Read("b", 0, 1)[0].Body.ToArray());
        Assert.Equal(3, log.EndOffset("a"));
        Assert.Empty(await log.AppendBatchAsync([]));
    }

    [Fact]
    public async Task A_batch_naming_a_missing_topic_is_refused_before_anything_is_written()
    {
        await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(), Quiet);
        await log.CreateTopicAsync("a");

        // Synchronous, like AppendAsync's own check: nothing was queued.
        Assert.Throws<ArgumentException>(() => { _ = log.AppendBatchAsync([CommitLogTests.Message(1, 10, "a"), CommitLogTests.Message(2, 10, "gone")]); });

        Assert.Equal(0, log.EndOffset("a"));
    }

    /// <summary>
    /// Cuts the disk image at every record boundary inside the batch and in the middle of each of its
    /// records, zeroing (pages never written) or truncating from there: recovery must keep the record
    /// before the batch and drop every record of the batch, also when the cut falls exactly between two
    /// of its intact records (which a per-record check alone would keep). Cut at the batch's end, all of it stays.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Recovery_drops_a_torn_batch_as_a_whole(bool truncate)
    {
        LogMessage before = CommitLogTests.Message(1, 300, "q");
        LogMessage[] batch = [.. Enumerable.Range(10, 5).Select(i => CommitLogTests.Message(i, 100 * i, "q"))];
        List<long> starts;
        long batchEnd;
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            await log.AppendAsync(before);
            starts = [.. (await log.AppendBatchAsync(batch, default)).Select(r => r.Position)];
            batchEnd = log.EndPosition;
        }

        string file = Directory.GetFiles(_dir.Path, "*.seg").Single();
        byte[] image = await File.ReadAllBytesAsync(file);
        var cuts = new List<long>();
        for (int i = 0; i < starts.Count; i++)
        {
            long end = i + 1 < starts.Count ? starts[i + 1] : batchEnd;
            cuts.Add(starts[i]);
            cuts.Add(starts[i] + ((end - starts[i]) / 2));
        }

        cuts.Add(batchEnd - 1);
        foreach (long cut in cuts)
        {
            await File.WriteAllBytesAsync(file, image);
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
            {
                if (truncate)
                {
                    stream.SetLength(cut);
                }
                else
                {
                    stream.Position = cut;
                    stream.Write(new byte[image.Length - cut]);
                }
            }

            await using CommitLog log = CommitLog.Open(Options());
            List<CommitLogRecord> recovered = [.. log.ReadFrom(0)];
            CommitLogRecord only = Assert.Single(recovered);
            CommitLogTests.AssertSame(before, only);
            Assert.Equal(starts[0], log.EndPosition);
            Assert.Equal(1, log.Recovery.Records);
            Assert.True(truncate || log.Recovery.TruncatedBytes > 0 || cut == starts[0], $"cut at {cut}: the batch's intact records were not cleared");
        }

        // Uncut, the whole batch is there.
        await File.WriteAllBytesAsync(file, image);
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(6, all.Count);
            for (int i = 0; i < batch.Length; i++)
            {
                CommitLogTests.AssertSame(batch[i], all[i + 1]);
            }
        }
    }

    [Fact]
    public async Task The_records_of_a_dropped_batch_cannot_resurface_after_the_next_append()
    {
        LogMessage[] batch = [CommitLogTests.Sized(1, 100), CommitLogTests.Sized(2, 100), CommitLogTests.Sized(3, 100)];
        List<long> starts;
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            starts = [.. (await log.AppendBatchAsync(batch, default)).Select(r => r.Position)];
        }

        // The last record never reached the disk; the first two did.
        string file = Directory.GetFiles(_dir.Path, "*.seg").Single();
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = starts[2];
            stream.Write(new byte[200]);
        }

        LogMessage after = CommitLogTests.Sized(4, 100);
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            Assert.Empty(log.ReadFrom(0));
            Assert.Equal(0, await log.AppendAsync(after));
        }

        // "after" is as long as batch[0]: had recovery not cleared them, batch[1] would now follow it intact.
        await using (CommitLog log = CommitLog.Open(Options()))
        {
            CommitLogTests.AssertSame(after, Assert.Single(log.ReadFrom(0)));
        }
    }

    [Theory]
    [InlineData("write")]
    [InlineData("fsync")]
    public async Task A_failed_batch_write_stores_none_of_its_messages(string fault)
    {
        var fs = new TestFileSystem();
        LogMessage a = CommitLogTests.Message(1, 500, "q");
        LogMessage[] batch = [CommitLogTests.Message(2, 800, "q"), CommitLogTests.Message(3, 900, "q")];
        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(fs), Quiet))
        {
            await log.CreateTopicAsync("q");
            await log.AppendAsync(a);
            int armed = 1;
            IOException? Once() => Interlocked.Exchange(ref armed, 0) == 1 ? new IOException("No space left on device") : null;
            if (fault == "write")
            {
                fs.WriteFault = Once;
            }
            else
            {
                fs.FlushFault = Once;
            }

            await Assert.ThrowsAsync<MessageLogWriteException>(() => log.AppendBatchAsync(batch).AsTask());
            Assert.Equal(1, log.EndOffset("q"));

            // The log stays usable: the next message takes offset 1.
            AppendResult next = await log.AppendAsync(CommitLogTests.Message(4, 10, "q"));
            Assert.Equal([1L], next.TopicOffsets);
        }

        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(), Quiet))
        {
            IReadOnlyList<StoredMessage> all = log.Read("q", 0, 10);
            Assert.Equal(2, all.Count);
            Assert.DoesNotContain(all, m => batch.Any(b => b.Body.Span.SequenceEqual(m.Body.Span)));
        }
    }

    [Fact]
    public async Task A_batch_larger_than_a_segment_goes_whole_into_a_segment_of_its_own()
    {
        LogMessage[] batch = [.. Enumerable.Range(1, 6).Select(i => CommitLogTests.Message(i, 1500, "q"))];
        await using (CommitLog log = CommitLog.Open(Options(segmentSize: 4096)))
        {
            await log.AppendAsync(CommitLogTests.Message(0, 1000, "q"));
            IReadOnlyList<AppendResult> results = await log.AppendBatchAsync(batch, default);
            Assert.Equal(4096, results[0].Position);
        }

        await using (CommitLog log = CommitLog.Open(Options(segmentSize: 4096)))
        {
            List<CommitLogRecord> all = [.. log.ReadFrom(0)];
            Assert.Equal(7, all.Count);
            CommitLogTests.AssertSame(batch[^1], all[^1]);
        }
    }

    /// <summary>
    /// Through the engine: a torn batch leaves no trace in its topics after recovery (offsets, counts,
    /// ready messages), and the next message takes the offset the batch's first message had.
    /// </summary>
    [Fact]
    public async Task After_recovery_a_torn_batch_is_in_none_of_its_topics()
    {
        long batchStart;
        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(), Quiet))
        {
            await log.CreateTopicAsync("a");
            await log.CreateTopicAsync("b");
            await log.AppendAsync(CommitLogTests.Message(1, 10, "a"));
            IReadOnlyList<AppendResult> results = await log.AppendBatchAsync(
                [CommitLogTests.Message(2, 100, "a", "b"), CommitLogTests.Message(3, 100, "b"), CommitLogTests.Message(4, 100, "a")]);
            batchStart = results[0].Position;
            long lastStart = results[2].Position;

            // A crash before any checkpoint covered the batch, whose last record's page never reached the
            // disk: without the checkpoint that closing wrote, recovery replays the whole commit log.
            await log.DisposeAsync();
            File.Delete(Path.Combine(_dir.Path, "checkpoint"));
            string file = Directory.GetFiles(_dir.Path, "*.seg").Single();
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            stream.Position = lastStart + 50;
            stream.Write(new byte[10]);
        }

        await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(Options(), Quiet))
        {
            Assert.Equal(1, log.EndOffset("a"));
            Assert.Equal(0, log.EndOffset("b"));
            Assert.Single(log.TakeReady("a", 10));
            Assert.Empty(log.TakeReady("b", 10));
            Assert.Equal(batchStart, log.CommitLog.EndPosition);
            AppendResult next = await log.AppendAsync(CommitLogTests.Message(5, 10, "b"));
            Assert.Equal([0L], next.TopicOffsets);
        }
    }

    /// <summary>Properties of a crash-batch-child record: batch id, index in the batch, batch size.</summary>
    internal static (long Batch, int Index, int Count) BatchTag(ReadOnlySpan<byte> properties) =>
        (BinaryPrimitives.ReadInt64LittleEndian(properties), BinaryPrimitives.ReadInt32LittleEndian(properties[8..]), BinaryPrimitives.ReadInt32LittleEndian(properties[12..]));
}
