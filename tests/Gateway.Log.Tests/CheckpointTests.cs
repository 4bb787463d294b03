using Gateway.Log.Commit;
using Gateway.Log.Index;

namespace Gateway.Log.Tests;

/// <summary>Checkpoints: recovery replays only what came after one, and an index that got ahead of a torn log is cut back.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CommitLogOptions LogOptions(long segmentSize = 1024 * 1024) =>
        new() { Directory = _dir.Path, SegmentSize = segmentSize, FsyncPolicy = FsyncPolicy.None };

    private EmbeddedMessageLog Open(bool checkpointOnDispose) =>
        EmbeddedMessageLog.Open(LogOptions(), new MessageLogOptions { MaintenanceInterval = null, CheckpointOnDispose = checkpointOnDispose, IndexCacheBytes = 0 });

    [Fact]
    public async Task Recovery_replays_only_the_records_after_the_checkpoint()
    {
        int n = TopicIndex.ChunkSize + 100;
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: false))
        {
            await log.CreateTopicAsync("a");
            await log.CreateTopicAsync("b");
            await Task.WhenAll(Enumerable.Range(0, n).Select(i => log.AppendAsync(CommitLogTests.Message(i, 10, "a", "b")).AsTask()));
            await log.RunMaintenanceAsync();
            await Task.WhenAll(Enumerable.Range(n, 7).Select(i => log.AppendAsync(CommitLogTests.Message(i, 10, "b")).AsTask()));
        }

        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: true))
        {
            Assert.Equal(7, log.CommitLog.Recovery.Records);
            Assert.Equal(n, log.EndOffset("a"));
            Assert.Equal(n + 7, log.EndOffset("b"));
            AssertReadsBack(log, "b", n + 7);
        }

        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: true))
        {
            Assert.Equal(0, log.CommitLog.Recovery.Records);   // a clean shutdown checkpointed everything
            AssertReadsBack(log, "a", n);
        }
    }

    [Fact]
    public async Task An_index_chunk_written_past_the_recovered_log_end_is_rebuilt_from_the_log()
    {
        int n = TopicIndex.ChunkSize;
        long cut;
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: false))
        {
            await log.CreateTopicAsync("t");
            await log.RunMaintenanceAsync();   // checkpoint with an empty topic
            for (int i = 0; i < n - 10; i++)
            {
                await log.AppendAsync(CommitLogTests.Message(i, 10, "t"));
            }

            cut = log.CommitLog.EndPosition;
            for (int i = n - 10; i < n; i++)
            {
                await log.AppendAsync(CommitLogTests.Message(i, 10, "t"));   // the last one seals chunk 0 into its file
            }
        }

        // Tear off the last ten records: the chunk file now indexes records the log no longer has.
        string segment = Directory.GetFiles(_dir.Path, "*.seg").Order().Last();
        using (FileStream file = File.OpenWrite(segment))
        {
            file.Position = cut - long.Parse(Path.GetFileNameWithoutExtension(segment), System.Globalization.CultureInfo.InvariantCulture);
            file.Write(new byte[1000]);
        }

        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: true))
        {
            Assert.Equal(n - 10, log.EndOffset("t"));
            await log.AppendAsync(CommitLogTests.Message(12345, 10, "t"));
            Assert.Equal(CommitLogTests.Message(12345, 10, "t").Body.ToArray(), log.Read("t", n - 10, 1).Single().Body.ToArray());
            AssertReadsBack(log, "t", n - 10);
        }
    }

    [Fact]
    public async Task A_damaged_checkpoint_stops_start_up_instead_of_being_trusted()
    {
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: true))
        {
            await log.CreateTopicAsync("t");
        }

        string path = Path.Combine(_dir.Path, "checkpoint");
        byte[] bytes = File.ReadAllBytes(path);
        bytes[20] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Throws<MessageLogCorruptionException>(() => Open(checkpointOnDispose: false));
    }

    private static void AssertReadsBack(EmbeddedMessageLog log, string topic, long count)
    {
        for (long offset = 0; offset < count; offset += 997)
        {
            StoredMessage m = log.Read(topic, offset, 1).Single();
            int seed = (int)(m.Timestamp - 1_700_000_000_000);
            Assert.Equal(CommitLogTests.Message(seed, 10).Body.ToArray(), m.Body.ToArray());
        }
    }
}
