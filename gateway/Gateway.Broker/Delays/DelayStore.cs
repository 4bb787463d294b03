using System.Security.Cryptography;
using System.Text;
using Gateway.Log;

namespace Gateway.Broker.Delays;

/// <summary>
/// Holds messages durably until a due time, then moves them to their target: routed through an exchange
/// (<see cref="ExchangeDelayTarget"/>, the x-delayed-message exchange) or appended to one queue
/// (<see cref="QueueDelayTarget"/>, delayed redelivery). Design: docs/queue-features.md, "Delayed messages".
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Storage: each owner (exchange or queue) has an internal log topic named from a hash of its kind, virtual
/// host and name. A record's opaque properties are a <see cref="DelayEnvelope"/> (due time and target around the
/// caller's properties); its body is the message body. Deleting the owner deletes the topic, and with it every
/// pending message.</item>
/// <item>Memory: a min-heap of (due, topic, offset) entries only; bodies stay in the log and are read back when due.</item>
/// <item>State: a pending message is taken (in flight) in its topic's consumption state while it waits. At start every
/// ready message of the owners' topics is taken into the heap; in-flight state is not durable, so after a restart the
/// same messages are ready again and are recovered the same way.</item>
/// <item>Safety: when due, the message is appended to its destination queues and only once that append is durable is
/// it settled in the delay topic. A crash in between moves it twice, never loses it. An append the log refuses is
/// retried after <see cref="RetryDelay"/>.</item>
/// <item>A target gone when due (exchange deleted, nothing bound, queue deleted) drops the message, as the plugin's
/// rabbit_delayed_message drops what routes nowhere; <c>dropped</c> is told.</item>
/// <item>Time comes from the injected <see cref="TimeProvider"/>: one timer, set for the earliest due entry.</item>
/// </list>
/// </remarks>
public sealed class DelayStore : IAsyncDisposable
{
    /// <summary>How long a message whose move the log refused waits before it is tried again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private const int MoveBatch = 256;
    private const int TakeBatch = 1024;

    private readonly IMessageLog _log;
    private readonly Func<DelayTarget, ReadOnlyMemory<byte>, IReadOnlyList<DelayDestination>> _resolve;
    private readonly TimeProvider _time;
    private readonly Action<DelayTarget, Exception?>? _dropped;
    private readonly Action<string, Exception>? _failed;
    private readonly Lock _lock = new();
    private readonly PriorityQueue<PendingDelay, (long Due, long Sequence)> _heap = new();
    // Bumped when an owner is dropped: entries of an earlier generation of the same topic name are stale.
    private readonly Dictionary<string, long> _generations = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _timer;
    private long _sequence;
    private Task _mover = Task.CompletedTask;

    /// <param name="log">The log holding the delay topics and the destination queues.</param>
    /// <param name="resolve">
    /// Where a due message goes now: the queues its target reaches (routing through the exchange's current bindings
    /// with the given stored properties, or the one queue), empty when the target is gone or routes nowhere.
    /// </param>
    /// <param name="time">The clock (tests inject a fake one).</param>
    /// <param name="dropped">Told when a due message is dropped because its target reached no queue (null: no exception), or could not be read.</param>
    /// <param name="failed">Told when a move failed and will be retried (the message stays pending).</param>
    public DelayStore(
        IMessageLog log,
        Func<DelayTarget, ReadOnlyMemory<byte>, IReadOnlyList<DelayDestination>> resolve,
        TimeProvider time,
        Action<DelayTarget, Exception?>? dropped = null,
        Action<string, Exception>? failed = null)
    {
        _log = log;
        _resolve = resolve;
        _time = time;
        _dropped = dropped;
        _failed = failed;
        _timer = time.CreateTimer(_ => Wake(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Messages waiting (held in the heap), for tests and metrics.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _heap.Count;
            }
        }
    }

    /// <summary>The log topic that holds <paramref name="owner"/>'s pending messages.</summary>
    public static string TopicFor(DelayOwner owner)
    {
        // Names can reach 255 bytes each and a topic name may not; a hash keeps it short and deterministic, so a
        // start finds an owner's topic from the metadata alone.
        byte[] key = Encoding.UTF8.GetBytes($"{(byte)owner.Kind}\n{owner.VirtualHost}\n{owner.Name}");
        string hash = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 16));
        return (owner.Kind == DelayOwnerKind.Exchange ? "delay-x-" : "delay-q-") + hash;
    }

    /// <summary>
    /// Recovers the pending messages of <paramref name="owners"/> (those whose topic exists) and starts moving them:
    /// ones already due are moved at once. Call once, before any <see cref="ScheduleAsync"/>.
    /// </summary>
    public Task StartAsync(IEnumerable<DelayOwner> owners, CancellationToken cancellationToken = default)
    {
        foreach (DelayOwner owner in owners)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string topic = TopicFor(owner);
            if (_log.TopicExists(topic))
            {
                TakePending(topic);
            }
        }

        _mover = Task.Run(MoveLoopAsync);
        Wake();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stores a message until <paramref name="dueAtUnixMs"/> and returns once it is durable (a publisher confirm may
    /// then be sent). Throws what <see cref="IMessageLog.AppendAsync"/> throws when the log refuses it.
    /// </summary>
    /// <param name="target">Where it goes when due.</param>
    /// <param name="properties">The caller's stored properties, moved unchanged (rewrite them before scheduling).</param>
    /// <param name="body">The body.</param>
    /// <param name="dueAtUnixMs">When it is due, Unix milliseconds on the store's clock; a past time moves it at once.</param>
    /// <param name="routingKeyHash">The index hash the moved record carries (see <see cref="LogMessage.RoutingKeyHash"/>).</param>
    public async ValueTask ScheduleAsync(
        DelayTarget target, ReadOnlyMemory<byte> properties, ReadOnlyMemory<byte> body, long dueAtUnixMs, uint routingKeyHash = 0,
        CancellationToken cancellationToken = default)
    {
        string topic = TopicFor(target.Owner);
        if (!_log.TopicExists(topic))
        {
            await _log.CreateTopicAsync(topic, cancellationToken).ConfigureAwait(false);
        }

        byte[] envelope = DelayEnvelope.Encode(target, dueAtUnixMs, properties.Span);
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await _log.AppendAsync(new LogMessage(envelope, body, now, [topic], routingKeyHash), cancellationToken).ConfigureAwait(false);

        // Durable: take whatever is ready in the topic (this message, and any other whose append completed before
        // its own take), so every pending message is in flight and in the heap exactly once.
        try
        {
            if (TakePending(topic))
            {
                Wake();
            }
        }
        catch (KeyNotFoundException)
        {
            // The owner was dropped after the append: its pending messages, this one included, went with it.
        }
    }

    /// <summary>Drops every pending message of <paramref name="owner"/> (its exchange or queue was deleted).</summary>
    public async ValueTask DropAsync(DelayOwner owner, CancellationToken cancellationToken = default)
    {
        string topic = TopicFor(owner);
        if (!_log.TopicExists(topic))
        {
            return;   // it never held a delayed message (every exchange deletion asks)
        }

        lock (_lock)
        {
            _generations[topic] = _generations.GetValueOrDefault(topic) + 1;
            var kept = _heap.UnorderedItems.Where(item => item.Element.Topic != topic).ToList();
            _heap.Clear();
            _heap.EnqueueRange(kept);
        }

        if (_log.TopicExists(topic))
        {
            await _log.DeleteTopicAsync(topic, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _timer.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _mover.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    /// <summary>Takes the ready messages of <paramref name="topic"/> into the heap; true if one is now the earliest.</summary>
    private bool TakePending(string topic)
    {
        bool earliest = false;
        lock (_lock)
        {
            long generation = _generations.GetValueOrDefault(topic);
            while (true)
            {
                IReadOnlyList<TakenMessage> taken = _log.TakeReady(topic, TakeBatch);
                foreach (TakenMessage message in taken)
                {
                    long due = DelayEnvelope.DueAt(message.Message.Properties.Span);
                    earliest |= !_heap.TryPeek(out _, out var first) || due < first.Due;
                    _heap.Enqueue(new PendingDelay(topic, message.Message.Offset, generation), (due, _sequence++));
                }

                if (taken.Count < TakeBatch)
                {
                    return earliest;
                }
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: the mover looks at the whole heap when it runs.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task MoveLoopAsync()
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            await _wake.WaitAsync(stopping).ConfigureAwait(false);
            try
            {
                while (await MoveDueBatchAsync().ConfigureAwait(false))
                {
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Nothing may end the loop: what could not be moved is still pending and is retried.
                _failed?.Invoke("(delayed messages)", ex);
            }

            ArmTimer();
        }
    }

    /// <summary>Sets the timer for the earliest entry (or wakes the mover at once when it is already due).</summary>
    private void ArmTimer()
    {
        long delay;
        lock (_lock)
        {
            if (!_heap.TryPeek(out _, out var first))
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            delay = first.Due - _time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        if (delay <= 0)
        {
            Wake();
            return;
        }

        _timer.Change(TimerStep.Toward(delay), Timeout.InfiniteTimeSpan);   // an early wake-up finds nothing due and re-arms
    }

    /// <summary>Moves up to one batch of due messages, in due order; true if it moved a full batch (more may be due).</summary>
    private async Task<bool> MoveDueBatchAsync()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = new List<PendingDelay>();
        lock (_lock)
        {
            while (due.Count < MoveBatch && _heap.TryPeek(out _, out var first) && first.Due <= now)
            {
                due.Add(_heap.Dequeue());
            }
        }

        // Appends are started in due order and the log writes in arrival order, so the destination queues get the
        // messages in due order; each is settled only after its own append is durable.
        var moves = new List<(PendingDelay Entry, Task<AppendResult> Append, IReadOnlyList<DelayDestination> Destinations)>(due.Count);
        foreach (PendingDelay entry in due)
        {
            if (Start(entry, now) is { } move)
            {
                moves.Add(move);
            }
        }

        foreach (var (entry, append, destinations) in moves)
        {
            try
            {
                await append.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MessageLogWriteException or ObjectDisposedException or ArgumentException or KeyNotFoundException)
            {
                // Not durable (disk full, a destination deleted since it was resolved, log closing): stays pending.
                _failed?.Invoke(entry.Topic, ex);
                Retry(entry, now);
                continue;
            }

            SettleIfCurrent(entry);
            foreach (DelayDestination destination in destinations)
            {
                destination.Queue?.NotifyMessagesAppended(withExpiration: true);
            }
        }

        return due.Count == MoveBatch;
    }

    /// <summary>Reads the due message back and starts its append; null when it is dropped (gone, unreadable or unroutable).</summary>
    private (PendingDelay, Task<AppendResult>, IReadOnlyList<DelayDestination>)? Start(PendingDelay entry, long now)
    {
        if (!IsCurrent(entry))
        {
            return null;   // its owner was dropped
        }

        DelayTarget? target = null;
        try
        {
            StoredMessage? stored = _log.Read(entry.Topic, entry.Offset, 1) is [{ } first] && first.Offset == entry.Offset ? first : null;
            if (stored is null)
            {
                return null;
            }

            (target, _, ReadOnlyMemory<byte> properties) = DelayEnvelope.Decode(stored.Properties);
            IReadOnlyList<DelayDestination> destinations = _resolve(target, properties);
            if (destinations.Count == 0)
            {
                _dropped?.Invoke(target, null);
                SettleIfCurrent(entry);
                return null;
            }

            var topics = destinations.Select(d => d.Topic).Distinct(StringComparer.Ordinal).ToList();
            // The moved message's timestamp is now: queue TTL and per-message expiry count from when it enters the
            // queue, as for any message RabbitMQ's delayed exchange routes when due.
            Task<AppendResult> append = _log.AppendAsync(new LogMessage(properties, stored.Body, now, topics, stored.RoutingKeyHash)).AsTask();
            return (entry, append, destinations);
        }
        catch (KeyNotFoundException)
        {
            return null;   // the delay topic was deleted meanwhile (owner dropped)
        }
        catch (Exception ex) when (ex is MessageLogWriteException or ObjectDisposedException or ArgumentException)
        {
            _failed?.Invoke(entry.Topic, ex);
            Retry(entry, now);
            return null;
        }
        catch (InvalidDataException ex)
        {
            // Not a record this gateway wrote: keeping it would retry it forever.
            _dropped?.Invoke(target ?? new QueueDelayTarget("", entry.Topic), ex);
            SettleIfCurrent(entry);
            return null;
        }
    }

    private void Retry(PendingDelay entry, long now)
    {
        lock (_lock)
        {
            _heap.Enqueue(entry, (now + (long)RetryDelay.TotalMilliseconds, _sequence++));
        }
    }

    private bool IsCurrent(PendingDelay entry)
    {
        lock (_lock)
        {
            return _generations.GetValueOrDefault(entry.Topic) == entry.Generation;
        }
    }

    private void SettleIfCurrent(PendingDelay entry)
    {
        try
        {
            if (IsCurrent(entry))
            {
                _log.Settle(entry.Topic, entry.Offset);
            }
        }
        catch (KeyNotFoundException)
        {
            // The owner was dropped meanwhile: its topic is gone with the entry.
        }
    }

    /// <summary>A heap entry: where the waiting record is. Its body stays in the log.</summary>
    private readonly record struct PendingDelay(string Topic, long Offset, long Generation);
}
