using Gateway.Log.Commit;
using Gateway.Log.Index;

namespace Gateway.Log.Tests;

public sealed class EmbeddedMessageLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private EmbeddedMessageLog Open() => EmbeddedMessageLog.Open(new CommitLogOptions
    {
        Directory = _dir.Path,
        SegmentSize = 64 * 1024,
        FsyncPolicy = FsyncPolicy.None,
    });

    private static LogMessage To(int seed, int bodySize, params string[] topics) => CommitLogTests.Message(seed, bodySize, topics);

    private static void AssertMessage(LogMessage expected, StoredMessage actual)
    {
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        Assert.Equal(expected.RoutingKeyHash, actual.RoutingKeyHash);
        Assert.Equal(expected.Properties.ToArray(), actual.Properties.ToArray());
        Assert.Equal(expected.Body.ToArray(), actual.Body.ToArray());
    }

    [Fact]
    public async Task Fan_out_assigns_per_topic_offsets_and_survives_reopen()
    {
        LogMessage m1 = To(1, 100, "a", "b"), m2 = To(2, 200, "b", "c", "a"), m3 = To(3, 0, "c");
        await using (EmbeddedMessageLog log = Open())
        {
            Assert.True(await log.CreateTopicAsync("a"));
            Assert.False(await log.CreateTopicAsync("a"));
            await log.CreateTopicAsync("b");
            await log.CreateTopicAsync("c");
            await log.CreateTopicAsync("empty");

            Assert.Equal([0L, 0L], (await log.AppendAsync(m1)).TopicOffsets);
            Assert.Equal([1L, 0L, 1L], (await log.AppendAsync(m2)).TopicOffsets);
            Assert.Equal([1L], (await log.AppendAsync(m3)).TopicOffsets);
            await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(To(4, 1, "a", "missing")).AsTask());
            await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(To(4, 1, "a", "a")).AsTask());
        }

        await using (EmbeddedMessageLog log = Open())
        {
            Assert.True(log.TopicExists("empty"));
            Assert.Equal(0, log.EndOffset("empty"));
            Assert.Equal(2, log.EndOffset("a"));
            IReadOnlyList<StoredMessage> b = log.Read("b", 0, 10);
            Assert.Equal([0L, 1L], b.Select(m => m.Offset));
            AssertMessage(m1, b[0]);
            AssertMessage(m2, b[1]);
            AssertMessage(m2, log.Read("a", 1, 1).Single());
            AssertMessage(m3, log.Read("c", 1, 5).Single());
            Assert.Empty(log.Read("c", 2, 5));

            // The same stored message, not a copy, behind every topic.
            Assert.Equal(log.Read("a", 1, 1)[0].Position, log.Read("c", 0, 1)[0].Position);
        }
    }

    [Fact]
    public async Task Deleted_topics_stay_deleted_after_reopen_and_a_recreated_topic_starts_empty()
    {
        await using (EmbeddedMessageLog log = Open())
        {
            await log.CreateTopicAsync("q");
            await log.AppendAsync(To(1, 10, "q"));
            Assert.True(await log.DeleteTopicAsync("q"));
            Assert.False(await log.DeleteTopicAsync("q"));
            Assert.False(log.TopicExists("q"));
            await log.CreateTopicAsync("gone");
            await log.DeleteTopicAsync("gone");
            await log.CreateTopicAsync("q");
            Assert.Equal(0, log.EndOffset("q"));
            await log.AppendAsync(To(2, 10, "q"));
        }

        await using (EmbeddedMessageLog log = Open())
        {
            Assert.False(log.TopicExists("gone"));
            AssertMessage(To(2, 10, "q"), log.Read("q", 0, 10).Single());
        }
    }

    [Fact]
    public async Task A_message_to_ten_topics_is_stored_once()
    {
        string[] topics = [.. Enumerable.Range(0, 10).Select(i => "queue-" + i)];
        await using EmbeddedMessageLog log = Open();
        foreach (string t in topics)
        {
            await log.CreateTopicAsync(t);
        }

        long before = log.CommitLog.EndPosition;
        await log.AppendAsync(To(1, 10_000, topics));
        long grew = log.CommitLog.EndPosition - before;
        Assert.InRange(grew, 10_000, 10_300);   // one body plus ten short names, not ten bodies
        foreach (string t in topics)
        {
            AssertMessage(To(1, 10_000, topics), log.Read(t, 0, 1).Single());
        }
    }

    [Fact]
    public async Task Index_memory_is_chunked_grows_with_the_tail_and_is_released_when_idle()
    {
        await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(
            new CommitLogOptions { Directory = _dir.Path, SegmentSize = 1024 * 1024, FsyncPolicy = FsyncPolicy.None },
            new MessageLogOptions { MaintenanceInterval = null, IndexCacheBytes = 0 });
        await log.CreateTopicAsync("empty");
        await log.CreateTopicAsync("small");
        await log.CreateTopicAsync("busy");
        for (int i = 0; i < 3; i++)
        {
            await log.AppendAsync(new LogMessage(default, new byte[1], i, ["small"]));
        }

        int n = TopicIndex.ChunkSize + 1;
        var appends = new List<Task>();
        for (int i = 0; i < n; i++)
        {
            appends.Add(log.AppendAsync(new LogMessage(default, new byte[1], i, ["busy"])).AsTask());
        }

        await Task.WhenAll(appends);
        Assert.Equal(0, log.IndexBytes("empty"));
        Assert.Equal(16 * 24, log.IndexBytes("small"));   // the tail starts at 16 entries, not a whole chunk
        Assert.Equal(16 * 24, log.IndexBytes("busy"));    // the sealed chunk went to its file and (budget 0) out of memory

        // The first checkpoint writes the tails; the next one finds them idle and releases them.
        await log.RunMaintenanceAsync();
        await log.RunMaintenanceAsync();
        Assert.Equal(0, log.IndexBytes("small"));
        Assert.Equal(0, log.IndexBytes("busy"));

        // Everything still reads (chunks come back from their files), and appends continue behind a released tail.
        Assert.Equal(n, log.EndOffset("busy"));
        Assert.Equal(5, log.Read("busy", 5, 1).Single().Timestamp);
        Assert.Equal(n - 1, log.Read("busy", n - 1, 1).Single().Timestamp);
        Assert.Equal(1, (await log.AppendAsync(new LogMessage(default, new byte[1], 7, ["small", "busy"]))).TopicOffsets[0] - 2);
        Assert.Equal([0, 1, 2, 7], log.Read("small", 0, 10).Select(m => m.Timestamp));
    }
}
