using Gateway.Log.Commit;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Log.Tests;

/// <summary>Retention, purge and delete reclaim space; nothing a queue has not settled is reclaimed unless a policy says so.</summary>
public sealed class RetentionTests : IDisposable
{
    private const int Body = 1000;
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public void Dispose() => _dir.Dispose();

    private EmbeddedMessageLog Open(bool checkpointOnDispose = true) => EmbeddedMessageLog.Open(
        new CommitLogOptions { Directory = _dir.Path, SegmentSize = 16 * 1024, FsyncPolicy = FsyncPolicy.None },
        new MessageLogOptions { MaintenanceInterval = null, CheckpointOnDispose = checkpointOnDispose, TimeProvider = _time });

    /// <summary>Appends <paramref name="count"/> messages to <paramref name="topics"/>, message i stamped at (start + i) seconds.</summary>
    private static async Task Fill(EmbeddedMessageLog log, int count, params string[] topics)
    {
        foreach (string topic in topics)
        {
            await log.CreateTopicAsync(topic);
        }

        for (int i = 0; i < count; i++)
        {
            await log.AppendAsync(CommitLogTests.Message(i, Body, topics) with { Timestamp = 1_700_000_000_000 + (i * 1000L) });
        }
    }

    private static void ConsumeAll(EmbeddedMessageLog log, string topic, Func<long, bool>? settle = null)
    {
        foreach (TakenMessage taken in log.TakeReady(topic, int.MaxValue))
        {
            if (settle?.Invoke(taken.Message.Offset) ?? true)
            {
                Assert.True(log.Settle(topic, taken.Message.Offset));
            }
        }
    }

    private int SegmentFiles => Directory.GetFiles(_dir.Path, "*.seg").Length;

    [Fact]
    public async Task Settled_messages_are_reclaimed_but_an_unsettled_one_pins_its_segment()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, 100, "q");   // ~100 KB over ~7 segments
        int before = SegmentFiles;
        ConsumeAll(log, "q", settle: offset => offset != 3);

        MaintenanceReport report = await log.RunMaintenanceAsync();
        Assert.Equal(0, report.SegmentsReclaimed);   // offset 3 is in the first segment and not settled
        Assert.Equal(3, log.GetStats("q").StartOffset);
        Assert.Equal(before, SegmentFiles);
        Assert.Equal(3, log.Read("q", 0, 1).Single().Offset);

        Assert.True(log.Settle("q", 3));
        report = await log.RunMaintenanceAsync();
        Assert.Equal(before - 1, report.SegmentsReclaimed);   // all but the active segment
        Assert.Equal(1, SegmentFiles);
        Assert.Equal(100, log.GetStats("q").StartOffset);
        Assert.Equal(0, log.GetStats("q").RetainedBytes);
        Assert.Empty(log.Read("q", 0, 10));
    }

    [Fact]
    public async Task A_message_shared_with_a_topic_that_has_not_settled_it_is_kept()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, 60, "fast", "slow");
        ConsumeAll(log, "fast");
        Assert.Equal(0, (await log.RunMaintenanceAsync()).SegmentsReclaimed);
        Assert.Equal(60, log.GetStats("fast").StartOffset);
        Assert.Equal(60, log.TakeReady("slow", int.MaxValue).Count);   // every body still readable through "slow"

        ConsumeAll(log, "slow", settle: _ => false);
        foreach (long offset in Enumerable.Range(0, 60))
        {
            Assert.True(log.Settle("slow", offset));
        }

        Assert.True((await log.RunMaintenanceAsync()).SegmentsReclaimed > 0);
    }

    [Fact]
    public async Task Purge_and_delete_reclaim_space()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, 50, "purged");
        await Fill(log, 50, "deleted");
        await log.RunMaintenanceAsync();   // checkpoint: both topics get index files
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(_dir.Path, "index")).Length);
        int before = SegmentFiles;

        Assert.Equal(50, log.Purge("purged"));
        Assert.True(await log.DeleteTopicAsync("deleted"));
        MaintenanceReport report = await log.RunMaintenanceAsync();

        Assert.Equal(before - 1, report.SegmentsReclaimed);
        Assert.Single(Directory.GetDirectories(Path.Combine(_dir.Path, "index")));   // the deleted topic's index is gone
        Assert.Equal(50, log.GetStats("purged").StartOffset);
        Assert.False(log.TopicExists("deleted"));
    }

    [Fact]
    public async Task Kept_settled_messages_are_trimmed_by_size_and_age_and_survive_a_restart_as_policy()
    {
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: false))
        {
            await Fill(log, 40, "bysize", "byage");
            log.SetRetention("bysize", new TopicRetention(KeepSettled: true, MaxBytes: 10 * (Body + 100)));
            log.SetRetention("byage", new TopicRetention(KeepSettled: true, MaxAge: TimeSpan.FromSeconds(15)));
            ConsumeAll(log, "bysize");
            ConsumeAll(log, "byage");
            log.FlushState();
        }

        // The policies come back from the journal (no checkpoint was written).
        await using (EmbeddedMessageLog log = Open())
        {
            _time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + 39_000));   // newest message is 0 s old
            await log.RunMaintenanceAsync();
            TopicStats bySize = log.GetStats("bysize");
            Assert.InRange(bySize.EndOffset - bySize.StartOffset, 8, 10);
            Assert.True(bySize.RetainedBytes <= 10 * (Body + 100));
            Assert.Equal(24, log.GetStats("byage").StartOffset);   // stamped 24 s..39 s: within 15 s
            Assert.Equal(24, log.Read("byage", 0, 1).Single().Offset);
            Assert.Equal(0, log.GetStats("byage").Ready);
        }
    }

    [Fact]
    public async Task Unsettled_messages_are_dropped_only_under_an_explicit_discard_policy()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, 30, "kept", "discarding");
        log.SetRetention("kept", new TopicRetention(MaxAge: TimeSpan.FromSeconds(10)));
        log.SetRetention("discarding", new TopicRetention(MaxAge: TimeSpan.FromSeconds(10), DiscardUnsettled: true));
        _time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + 29_000));
        await log.RunMaintenanceAsync();

        Assert.Equal(new TopicStats(0, 30, 30, 0, 0, log.GetStats("kept").RetainedBytes), log.GetStats("kept"));
        TopicStats discarding = log.GetStats("discarding");
        Assert.Equal(19, discarding.StartOffset);
        Assert.Equal(19, discarding.Watermark);
        Assert.Equal(11, discarding.Ready);
        Assert.Equal(19, log.TakeReady("discarding", 1).Single().Message.Offset);
    }

    [Fact]
    public async Task Seek_by_timestamp_finds_the_first_message_at_or_after_it()
    {
        await using EmbeddedMessageLog log = Open();
        await log.CreateTopicAsync("t");
        long[] stamps = [100, 200, 200, 300, 250 /* clock step back: indexed as 300 */, 400];
        foreach (long stamp in stamps)
        {
            await log.AppendAsync(new LogMessage(default, new byte[10], stamp, ["t"]));
        }

        Assert.Equal(0, log.SeekByTimestamp("t", 0));
        Assert.Equal(0, log.SeekByTimestamp("t", 100));
        Assert.Equal(1, log.SeekByTimestamp("t", 101));
        Assert.Equal(3, log.SeekByTimestamp("t", 250));
        Assert.Equal(5, log.SeekByTimestamp("t", 301));
        Assert.Equal(6, log.SeekByTimestamp("t", 401));
        Assert.Equal(250, log.Read("t", 4, 1).Single().Timestamp);   // the record keeps its own stamp
    }
}
