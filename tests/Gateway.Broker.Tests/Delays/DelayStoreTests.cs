using Gateway.Broker.Delays;
using Gateway.Log;
using Gateway.Log.Commit;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Broker.Tests.Delays;

/// <summary>
/// The delay store over the embedded log on a fake clock: both target kinds, recovery after a restart, and the safety
/// rule that a pending message is settled only after its move is durable (a crash in between duplicates, never loses).
/// </summary>
public sealed class DelayStoreTests : IAsyncLifetime
{
    private const string QueueTopic = "q-orders";
    private const string OtherQueueTopic = "q-audit";

    private readonly string _directory = Directory.CreateTempSubdirectory("delay-store-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
    private readonly List<(DelayTarget Target, byte[] Properties)> _resolved = [];
    private GatedLog _log = null!;

    public async Task InitializeAsync()
    {
        _log = OpenLog();
        await _log.CreateTopicAsync(QueueTopic);
        await _log.CreateTopicAsync(OtherQueueTopic);
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private GatedLog OpenLog() => new(EmbeddedMessageLog.Open(new CommitLogOptions { Directory = _directory }));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A store whose exchange "x" reaches both queue topics, whose queue "orders" is <see cref="QueueTopic"/>, and nothing else.</summary>
    private DelayStore NewStore(List<Exception>? failures = null) => new(
        _log,
        (target, properties) =>
        {
            lock (_resolved)
            {
                _resolved.Add((target, properties.ToArray()));
            }

            return target switch
            {
                ExchangeDelayTarget { Exchange: "x" } => [new DelayDestination(QueueTopic, null), new DelayDestination(OtherQueueTopic, null)],
                QueueDelayTarget { Queue: "orders" } => [new DelayDestination(QueueTopic, null)],
                _ => [],
            };
        },
        _time,
        failed: (_, error) =>
        {
            lock (failures ?? [])
            {
                failures?.Add(error);
            }
        });

    private static async Task EventuallyAsync(Func<bool> condition, string because)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, because);
            await Task.Delay(10);
        }
    }

    private long Count(string topic) => _log.GetStats(topic).EndOffset;

    [Fact]
    public async Task A_queue_target_gets_the_message_unchanged_at_its_due_time_and_the_delay_record_is_settled()
    {
        await using DelayStore store = NewStore();
        await store.StartAsync([]);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), new byte[] { 7, 8 }, new byte[] { 1, 2, 3 }, Now + 10_000, routingKeyHash: 42);
        string delayTopic = DelayStore.TopicFor(DelayOwner.Queue("/", "orders"));
        Assert.Equal(1, _log.GetStats(delayTopic).InFlight);
        Assert.Equal(1, store.Pending);

        _time.Advance(TimeSpan.FromMilliseconds(9_999));
        await Task.Delay(100);
        Assert.Equal(0, Count(QueueTopic));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await EventuallyAsync(() => Count(QueueTopic) == 1, "the queue should get the message when due");
        StoredMessage moved = _log.Read(QueueTopic, 0, 1)[0];
        Assert.Equal(new byte[] { 7, 8 }, moved.Properties.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3 }, moved.Body.ToArray());
        Assert.Equal(42u, moved.RoutingKeyHash);
        Assert.Equal(Now, moved.Timestamp);   // entered the queue now: TTL counts from here
        Assert.Equal(0, Count(OtherQueueTopic));
        await EventuallyAsync(() => _log.GetStats(delayTopic) is { InFlight: 0, Ready: 0 }, "the delay record should be settled");
        Assert.Equal(0, store.Pending);
    }

    [Fact]
    public async Task An_exchange_target_is_resolved_when_due_with_its_routing_key_and_properties_and_written_once_to_every_queue()
    {
        await using DelayStore store = NewStore();
        await store.StartAsync([]);
        await store.ScheduleAsync(new ExchangeDelayTarget("vh", "x", "order.created"), new byte[] { 5 }, new byte[] { 9 }, Now + 1_000);
        Assert.Empty(_resolved);   // routing happens when due, with the bindings of that moment

        _time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => Count(QueueTopic) == 1 && Count(OtherQueueTopic) == 1, "both queues should get it");
        var (target, properties) = Assert.Single(_resolved);
        Assert.Equal(new ExchangeDelayTarget("vh", "x", "order.created"), target);
        Assert.Equal(new byte[] { 5 }, properties);
        Assert.Equal(_log.Read(QueueTopic, 0, 1)[0].Position, _log.Read(OtherQueueTopic, 0, 1)[0].Position);   // one record
    }

    [Fact]
    public async Task Due_order_wins_over_schedule_order_and_an_unroutable_message_is_dropped()
    {
        await using DelayStore store = NewStore();
        await store.StartAsync([]);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 3 }, Now + 3_000);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 1 }, Now + 1_000);
        await store.ScheduleAsync(new QueueDelayTarget("/", "gone"), default, new byte[] { 0 }, Now + 500);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 2 }, Now + 2_000);

        _time.Advance(TimeSpan.FromSeconds(3));
        await EventuallyAsync(() => Count(QueueTopic) == 3, "all three should arrive");
        Assert.Equal([1, 2, 3], _log.Read(QueueTopic, 0, 3).Select(m => (int)m.Body.Span[0]));
        string goneTopic = DelayStore.TopicFor(DelayOwner.Queue("/", "gone"));
        await EventuallyAsync(() => _log.GetStats(goneTopic) is { InFlight: 0, Ready: 0 }, "the unroutable one is settled (dropped)");
    }

    [Fact]
    public async Task Dropping_an_owner_deletes_its_pending_messages()
    {
        await using DelayStore store = NewStore();
        await store.StartAsync([]);
        await store.ScheduleAsync(new ExchangeDelayTarget("/", "x", "k"), default, new byte[] { 1 }, Now + 1_000);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 2 }, Now + 1_000);

        await store.DropAsync(DelayOwner.Exchange("/", "x"));
        Assert.False(_log.TopicExists(DelayStore.TopicFor(DelayOwner.Exchange("/", "x"))));
        Assert.Equal(1, store.Pending);
        _time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => Count(QueueTopic) == 1, "the other owner's message still arrives");
        await Task.Delay(100);
        Assert.Equal(0, Count(OtherQueueTopic));
        Assert.Equal(new byte[] { 2 }, _log.Read(QueueTopic, 0, 1)[0].Body.ToArray());
    }

    [Fact]
    public async Task A_move_the_log_refuses_leaves_the_message_pending_and_is_retried()
    {
        var failures = new List<Exception>();
        await using DelayStore store = NewStore(failures);
        await store.StartAsync([]);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 1 }, Now + 1_000);
        string delayTopic = DelayStore.TopicFor(DelayOwner.Queue("/", "orders"));
        _log.RefuseAppendsTo = QueueTopic;

        _time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => { lock (failures) { return failures.Count == 1; } }, "the refused move should be reported");
        Assert.Equal(1, _log.GetStats(delayTopic).InFlight);   // not settled: still the store's
        Assert.Equal(0, Count(QueueTopic));

        _log.RefuseAppendsTo = null;
        _time.Advance(DelayStore.RetryDelay);
        await EventuallyAsync(() => Count(QueueTopic) == 1, "the retry should move it");
        await EventuallyAsync(() => _log.GetStats(delayTopic).InFlight == 0, "settled after the durable move");
    }

    [Fact]
    public async Task The_pending_record_is_settled_only_after_the_move_is_durable_so_a_crash_in_between_moves_it_again()
    {
        DelayStore store = NewStore();
        await store.StartAsync([]);
        await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 1 }, Now + 1_000);
        string delayTopic = DelayStore.TopicFor(DelayOwner.Queue("/", "orders"));
        var gate = new TaskCompletionSource();
        _log.HoldAfterAppendTo = (QueueTopic, gate.Task);

        _time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => Count(QueueTopic) == 1, "the move's append is in the log");
        await Task.Delay(100);
        Assert.Equal(1, _log.GetStats(delayTopic).InFlight);   // its completion has not reached the store: not settled

        // Crash: the log closes before the store hears the append completed, so the settle never happens.
        await _log.DisposeAsync();
        gate.SetResult();
        await store.DisposeAsync();

        _log = OpenLog();
        Assert.Equal(1, _log.GetStats(delayTopic).Ready);   // in-flight state is not durable: pending again
        await using DelayStore restarted = NewStore();
        await restarted.StartAsync([DelayOwner.Queue("/", "orders")]);
        Assert.Equal(1, restarted.Pending);
        await EventuallyAsync(() => Count(QueueTopic) == 2, "already due: moved at once after the start (a duplicate, not a loss)");
        await EventuallyAsync(() => _log.GetStats(delayTopic) is { InFlight: 0, Ready: 0 }, "settled this time");
    }

    [Fact]
    public async Task Pending_messages_are_recovered_at_start_and_moved_at_their_due_time()
    {
        await using (DelayStore store = NewStore())
        {
            await store.StartAsync([]);
            await store.ScheduleAsync(new QueueDelayTarget("/", "orders"), default, new byte[] { 1 }, Now + 60_000);
        }

        await _log.DisposeAsync();
        _log = OpenLog();
        await using DelayStore restarted = NewStore();
        await restarted.StartAsync([DelayOwner.Queue("/", "orders"), DelayOwner.Exchange("/", "never-used")]);
        Assert.Equal(1, restarted.Pending);
        _time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(100);
        Assert.Equal(0, Count(QueueTopic));
        _time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => Count(QueueTopic) == 1, "moved when due after the restart");
    }

    /// <summary>The embedded log with two faults to inject on appends to one destination topic.</summary>
    private sealed class GatedLog(IMessageLog inner) : IMessageLog
    {
        /// <summary>Appends that include this topic fail as a full disk would make them.</summary>
        public string? RefuseAppendsTo { get; set; }

        /// <summary>Appends that include this topic complete (to the caller) only once the task does, after the inner append is durable.</summary>
        public (string Topic, Task Gate)? HoldAfterAppendTo { get; set; }

        public async ValueTask<AppendResult> AppendAsync(LogMessage message, CancellationToken cancellationToken = default)
        {
            if (RefuseAppendsTo is { } refused && message.Topics.Contains(refused))
            {
                throw new MessageLogWriteException("refused by the test");
            }

            AppendResult result = await inner.AppendAsync(message, cancellationToken);
            if (HoldAfterAppendTo is { } hold && message.Topics.Contains(hold.Topic))
            {
                await hold.Gate;
            }

            return result;
        }

        public ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<LogMessage> messages, CancellationToken cancellationToken = default) =>
            inner.AppendBatchAsync(messages, cancellationToken);

        public ValueTask<bool> CreateTopicAsync(string topic, CancellationToken cancellationToken = default) => inner.CreateTopicAsync(topic, cancellationToken);

        public ValueTask<bool> DeleteTopicAsync(string topic, CancellationToken cancellationToken = default) => inner.DeleteTopicAsync(topic, cancellationToken);

        public bool TopicExists(string topic) => inner.TopicExists(topic);

        public IReadOnlyList<StoredMessage> Read(string topic, long fromOffset, int maxCount) => inner.Read(topic, fromOffset, maxCount);

        public long EndOffset(string topic) => inner.EndOffset(topic);

        public IReadOnlyList<TakenMessage> TakeReady(string topic, int maxCount) => inner.TakeReady(topic, maxCount);

        public IReadOnlyList<TakenMessage> TakeReadyWhile(string topic, int maxCount, Func<StoredMessage, bool> predicate) =>
            inner.TakeReadyWhile(topic, maxCount, predicate);

        public bool Settle(string topic, long offset) => inner.Settle(topic, offset);

        public bool Requeue(string topic, long offset) => inner.Requeue(topic, offset);

        public int Returns(string topic, long offset) => inner.Returns(topic, offset);

        public long Purge(string topic) => inner.Purge(topic);

        public long ReadyBodyBytes(string topic) => inner.ReadyBodyBytes(topic);

        public long ReadyCount(string topic) => inner.ReadyCount(topic);

        public TopicStats GetStats(string topic) => inner.GetStats(topic);

        public long SeekByTimestamp(string topic, long timestamp) => inner.SeekByTimestamp(topic, timestamp);

        public void SetRetention(string topic, TopicRetention retention) => inner.SetRetention(topic, retention);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
