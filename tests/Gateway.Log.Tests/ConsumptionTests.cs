using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>Queue consumption over a topic: take, settle, requeue, purge, redelivered flags, and what survives a restart.</summary>
public sealed class ConsumptionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private EmbeddedMessageLog Open(bool checkpointOnDispose = true) => EmbeddedMessageLog.Open(
        new CommitLogOptions { Directory = _dir.Path, SegmentSize = 64 * 1024, FsyncPolicy = FsyncPolicy.None },
        new MessageLogOptions { MaintenanceInterval = null, CheckpointOnDispose = checkpointOnDispose });

    private static async Task Fill(EmbeddedMessageLog log, string topic, int count)
    {
        await log.CreateTopicAsync(topic);
        for (int i = 0; i < count; i++)
        {
            await log.AppendAsync(CommitLogTests.Message(i, 50, topic));
        }
    }

    private static long[] Offsets(IReadOnlyList<TakenMessage> taken) => [.. taken.Select(t => t.Message.Offset)];

    [Fact]
    public async Task Returns_are_counted_per_offset_until_the_message_is_settled_or_purged()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 3);
        log.TakeReady("q", 3);
        Assert.Equal(0, log.Returns("q", 0));
        Assert.True(log.Requeue("q", 0));
        Assert.True(log.Requeue("q", 1));
        log.TakeReady("q", 2);
        Assert.True(log.Requeue("q", 0));
        Assert.Equal([2, 1, 0], new long[] { 0, 1, 2 }.Select(o => log.Returns("q", o)));

        log.TakeReady("q", 2);
        Assert.True(log.Settle("q", 0));
        Assert.Equal(0, log.Returns("q", 0));   // settled: forgotten
        Assert.True(log.Requeue("q", 1));
        Assert.Equal(1, log.Purge("q"));
        Assert.Equal(0, log.Returns("q", 1));   // purged: forgotten
    }

    [Fact]
    public async Task Requeued_messages_come_back_first_in_offset_order_flagged_redelivered()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 6);

        IReadOnlyList<TakenMessage> first = log.TakeReady("q", 4);
        Assert.Equal([0, 1, 2, 3], Offsets(first));
        Assert.All(first, t => Assert.False(t.Redelivered));
        Assert.Equal(CommitLogTests.Message(2, 50, "q").Body.ToArray(), first[2].Message.Body.ToArray());

        Assert.True(log.Requeue("q", 3));
        Assert.True(log.Requeue("q", 1));
        Assert.True(log.Settle("q", 0));
        Assert.Equal(new TopicStats(0, 6, Ready: 4, InFlight: 1, Watermark: 1, RetainedBytes: log.GetStats("q").RetainedBytes), log.GetStats("q"));

        IReadOnlyList<TakenMessage> next = log.TakeReady("q", 10);
        Assert.Equal([1, 3, 4, 5], Offsets(next));
        Assert.Equal([true, true, false, false], next.Select(t => t.Redelivered));
        Assert.Equal(0, log.GetStats("q").Ready);
        Assert.Equal(5, log.GetStats("q").InFlight);
    }

    [Fact]
    public async Task Taking_while_a_predicate_holds_stops_at_the_first_refused_message_and_leaves_it_untouched()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 6);
        log.TakeReady("q", 2);
        Assert.True(log.Requeue("q", 1));   // requeued first, as TakeReady would serve it

        Assert.Equal([1], Offsets(log.TakeReadyWhile("q", 1, _ => true)));   // at most maxCount
        Assert.True(log.Requeue("q", 1));
        IReadOnlyList<TakenMessage> expired = log.TakeReadyWhile("q", 10, m => m.Offset != 3);
        Assert.Equal([1, 2], Offsets(expired));
        Assert.Equal([true, false], expired.Select(t => t.Redelivered));
        Assert.Empty(log.TakeReadyWhile("q", 10, m => m.Offset != 3));

        IReadOnlyList<TakenMessage> rest = log.TakeReady("q", 10);
        Assert.Equal([3, 4, 5], Offsets(rest));
        Assert.False(rest[0].Redelivered);   // looked at, refused, never taken: not a redelivery
        Assert.Empty(log.TakeReadyWhile("q", 10, _ => true));   // nothing ready is nothing taken
    }

    [Fact]
    public async Task Settling_something_not_in_flight_is_refused()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 3);
        Assert.False(log.Settle("q", 0));      // never delivered
        log.TakeReady("q", 2);
        Assert.True(log.Settle("q", 1));
        Assert.False(log.Settle("q", 1));      // double ack
        Assert.False(log.Requeue("q", 1));
        Assert.False(log.Settle("q", 99));     // unknown
        Assert.True(log.Requeue("q", 0));
        Assert.False(log.Settle("q", 0));      // requeued: ready again, not in flight
        Assert.Equal(0, log.GetStats("q").Watermark);
    }

    [Fact]
    public async Task Purge_removes_ready_messages_and_leaves_in_flight_ones()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 10);
        log.TakeReady("q", 3);
        Assert.True(log.Requeue("q", 2));
        Assert.Equal(8, log.Purge("q"));        // offset 2 (requeued) and 3..9
        Assert.Equal(0, log.GetStats("q").Ready);
        Assert.Equal(2, log.GetStats("q").InFlight);
        Assert.Empty(log.TakeReady("q", 10));

        Assert.True(log.Requeue("q", 0));
        Assert.Equal([0], Offsets(log.TakeReady("q", 10)));
        Assert.True(log.Settle("q", 0));
        Assert.True(log.Settle("q", 1));
        Assert.Equal(10, log.GetStats("q").Watermark);
        Assert.Equal(0, log.Purge("q"));
    }

    [Fact]
    public async Task After_a_restart_unsettled_messages_are_ready_and_flagged_and_settled_ones_stay_settled()
    {
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: false))
        {
            await Fill(log, "q", 8);
            log.TakeReady("q", 6);
            foreach (long offset in new long[] { 0, 1, 4 })
            {
                Assert.True(log.Settle("q", offset));
            }

            log.FlushState();
        }

        // No checkpoint was written: this state comes from the journal alone.
        await using (EmbeddedMessageLog log = Open())
        {
            TopicStats stats = log.GetStats("q");
            Assert.Equal(2, stats.Watermark);
            Assert.Equal(5, stats.Ready);
            Assert.Equal(0, stats.InFlight);
            IReadOnlyList<TakenMessage> taken = log.TakeReady("q", 10);
            Assert.Equal([2, 3, 5, 6, 7], Offsets(taken));
            Assert.Equal([true, true, true, false, false], taken.Select(t => t.Redelivered));
            Assert.True(log.Settle("q", 2));
            Assert.True(log.Settle("q", 3));
        }

        // This time a checkpoint carries it.
        await using (EmbeddedMessageLog log = Open())
        {
            Assert.Equal(5, log.GetStats("q").Watermark);
            Assert.Equal([5, 6, 7], Offsets(log.TakeReady("q", 10)));
        }
    }

    [Fact]
    public async Task Settles_are_flushed_in_batches_not_per_ack()
    {
        await using EmbeddedMessageLog log = Open();
        await Fill(log, "q", 500);
        foreach (TakenMessage taken in log.TakeReady("q", 500))
        {
            Assert.True(log.Settle("q", taken.Message.Offset));
        }

        string journal = Directory.GetFiles(_dir.Path, "state-*.journal").Single();
        Assert.Equal(0, new FileInfo(journal).Length);   // nothing written per ack
        log.FlushState();
        Assert.InRange(new FileInfo(journal).Length, 48, 2 * 48);   // one merged range record (+ a cursor record)
    }

    [Fact]
    public async Task A_deleted_and_recreated_topic_does_not_inherit_consumption_state()
    {
        await using (EmbeddedMessageLog log = Open(checkpointOnDispose: false))
        {
            await Fill(log, "q", 3);
            log.TakeReady("q", 3);
            Assert.True(log.Settle("q", 0));
            log.FlushState();
            await log.DeleteTopicAsync("q");
            await Fill(log, "q", 2);
        }

        await using (EmbeddedMessageLog log = Open())
        {
            Assert.Equal(new TopicStats(0, 2, 2, 0, 0, log.GetStats("q").RetainedBytes), log.GetStats("q"));
        }
    }
}
