namespace Gateway.Log;

/// <summary>
/// The storage seam the gateway uses: the embedded engine implements it, and a Kafka backend
/// will implement it later. It knows nothing of AMQP: a message is opaque properties bytes, an
/// opaque body, a timestamp, and the topics (queues) it was routed to. See docs/log-engine.md.
/// </summary>
/// <remarks>
/// Contract for every implementation:
/// <list type="bullet">
/// <item>A message is stored once however many destination topics it has; each topic assigns it
/// the next offset in that topic (offsets start at 0 and have no gaps).</item>
/// <item><see cref="AppendAsync"/> completes successfully only after the message is durable under
/// the configured fsync policy (with the default policy: on disk, so a publisher confirm may be
/// sent). If it fails, with <see cref="MessageLogWriteException"/>, the message is not in any
/// topic and the gateway nacks it; earlier messages are unaffected.</item>
/// <item>The memory passed to <see cref="AppendAsync"/> must not change until its task completes.</item>
/// </list>
/// </remarks>
public interface IMessageLog : IAsyncDisposable
{
    /// <summary>Creates a topic if it does not exist. Returns false if it already existed.</summary>
    ValueTask<bool> CreateTopicAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Deletes a topic and (eventually) reclaims its space. Returns false if it did not exist.</summary>
    ValueTask<bool> DeleteTopicAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="topic"/> exists.</summary>
    bool TopicExists(string topic);

    /// <summary>
    /// Writes <paramref name="message"/> once and adds it to every destination topic. Every
    /// destination must exist; the message is rejected with <see cref="ArgumentException"/> otherwise.
    /// </summary>
    ValueTask<AppendResult> AppendAsync(LogMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="messages"/> all or nothing (an AMQP transaction's publishes): each is
    /// stored once and added to its destination topics as by <see cref="AppendAsync"/>, in order, and
    /// the task completes with each one's result once every one is durable. After a crash at any
    /// point either every message of the batch is in its topics or none is; if the write fails, with
    /// <see cref="MessageLogWriteException"/>, none is. Every destination of every message must exist
    /// (<see cref="ArgumentException"/> otherwise, before anything is written). An empty batch does nothing.
    /// </summary>
    ValueTask<IReadOnlyList<AppendResult>> AppendBatchAsync(IReadOnlyList<LogMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads up to <paramref name="maxCount"/> messages of <paramref name="topic"/> starting at
    /// <paramref name="fromOffset"/>; fewer (possibly none) if the topic ends sooner. Only completed
    /// appends are visible.
    /// </summary>
    IReadOnlyList<StoredMessage> Read(string topic, long fromOffset, int maxCount);

    /// <summary>The offset the next message appended to <paramref name="topic"/> will get.</summary>
    long EndOffset(string topic);

    /// <summary>
    /// Queue consumption: takes up to <paramref name="maxCount"/> ready messages (requeued ones first,
    /// in offset order, then new ones) and marks them in flight until <see cref="Settle"/> or
    /// <see cref="Requeue"/>. A topic has one consumption state: it is one queue.
    /// </summary>
    IReadOnlyList<TakenMessage> TakeReady(string topic, int maxCount);

    /// <summary>
    /// Takes ready messages from the head, in <see cref="TakeReady"/>'s order, while
    /// <paramref name="predicate"/> accepts the next one (at most <paramref name="maxCount"/>); the first
    /// message refused stays ready and untouched. Looking and taking are atomic per message. Message
    /// expiry uses it: RabbitMQ drops expired messages from a queue's head.
    /// </summary>
    IReadOnlyList<TakenMessage> TakeReadyWhile(string topic, int maxCount, Func<StoredMessage, bool> predicate);

    /// <summary>Settles an in-flight message (ack; reject or nack without requeue). False if it was not in flight (unknown or double settle).</summary>
    bool Settle(string topic, long offset);

    /// <summary>Puts an in-flight message back (nack/reject with requeue, channel closed). False if it was not in flight.</summary>
    bool Requeue(string topic, long offset);

    /// <summary>
    /// How many times the message at <paramref name="offset"/> was requeued (0 if never, or if it is
    /// settled): a quorum queue's delivery count. Kept in memory only, like the in-flight state, so a
    /// restart starts the counts again.
    /// </summary>
    int Returns(string topic, long offset);

    /// <summary>Settles every ready message (queue.purge; in-flight ones stay) and returns how many.</summary>
    long Purge(string topic);

    /// <summary>Messages ready for delivery: <see cref="TopicStats.Ready"/> alone, for the dispatcher's frequent checks.</summary>
    long ReadyCount(string topic);

    /// <summary>
    /// The body bytes of the ready messages, summed by reading each one: a queue with a byte limit counts
    /// them once when it is opened and keeps the sum itself afterwards.
    /// </summary>
    long ReadyBodyBytes(string topic);

    /// <summary>Offsets, counts and retained bytes of <paramref name="topic"/>.</summary>
    TopicStats GetStats(string topic);

    /// <summary>The first retained offset with a timestamp ≥ <paramref name="timestamp"/> (Unix ms), or the end offset if none: replay and reset-to-time start there.</summary>
    long SeekByTimestamp(string topic, long timestamp);

    /// <summary>Sets how long settled messages are kept (see <see cref="TopicRetention"/>); durable.</summary>
    void SetRetention(string topic, TopicRetention retention);
}

/// <summary>
/// What a topic keeps. By default (<see cref="None"/>) a settled message is reclaimable at once,
/// which is a RabbitMQ queue. With <see cref="KeepSettled"/>, settled messages stay for replay until
/// <see cref="MaxAge"/> or <see cref="MaxBytes"/> (null: no limit on that axis) drops them. A message
/// that is not settled is never dropped unless <see cref="DiscardUnsettled"/> says the limits apply
/// to it too.
/// </summary>
public sealed record TopicRetention(bool KeepSettled = false, TimeSpan? MaxAge = null, long? MaxBytes = null, bool DiscardUnsettled = false)
{
    public static TopicRetention None { get; } = new();
}

/// <summary>A topic's state.</summary>
/// <param name="StartOffset">First retained offset.</param>
/// <param name="EndOffset">Offset the next append gets.</param>
/// <param name="Ready">Messages ready for delivery (queue.declare-ok / basic.get-ok message count).</param>
/// <param name="InFlight">Delivered, not settled.</param>
/// <param name="Watermark">Every offset below it is settled.</param>
/// <param name="RetainedBytes">Record bytes of the retained offsets (a message shared by several topics counts in each).</param>
public readonly record struct TopicStats(long StartOffset, long EndOffset, long Ready, long InFlight, long Watermark, long RetainedBytes);

/// <summary>A message taken for delivery.</summary>
/// <param name="Message">The message.</param>
/// <param name="Redelivered">It was delivered before (requeued, or possibly delivered before a restart): AMQP's redelivered flag.</param>
/// <param name="DeliveryCount">Times it was returned before this delivery, for queues that count them (quorum queues' x-delivery-count); null for the others.</param>
public sealed record TakenMessage(StoredMessage Message, bool Redelivered, int? DeliveryCount = null);

/// <summary>A message to append.</summary>
/// <param name="Properties">Opaque encoded properties (the gateway stores the AMQP content header here).</param>
/// <param name="Body">The opaque body.</param>
/// <param name="Timestamp">Arrival time, Unix milliseconds; used for seek-by-time and retention.</param>
/// <param name="Topics">The destination topics, each at most once; at least one.</param>
/// <param name="RoutingKeyHash">A hash of the routing key, kept in the per-topic index for filtering without reading bodies.</param>
public sealed record LogMessage(
    ReadOnlyMemory<byte> Properties,
    ReadOnlyMemory<byte> Body,
    long Timestamp,
    IReadOnlyList<string> Topics,
    uint RoutingKeyHash = 0);

/// <summary>Where an appended message went.</summary>
/// <param name="Position">Its commit-log position (stable identity of the stored message).</param>
/// <param name="TopicOffsets">Its offset in each destination topic, in the order of <see cref="LogMessage.Topics"/>.</param>
public readonly record struct AppendResult(long Position, IReadOnlyList<long> TopicOffsets);

/// <summary>A message read back from a topic.</summary>
public sealed record StoredMessage(
    string Topic,
    long Offset,
    long Position,
    long Timestamp,
    uint RoutingKeyHash,
    ReadOnlyMemory<byte> Properties,
    ReadOnlyMemory<byte> Body);

/// <summary>
/// An append could not be made durable (disk full, I/O error, log closed while it was pending).
/// The message is in no topic; the gateway answers the publisher with a nack.
/// </summary>
public sealed class MessageLogWriteException : IOException
{
    public MessageLogWriteException() { }

    public MessageLogWriteException(string message) : base(message) { }

    public MessageLogWriteException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Stored data failed validation somewhere other than the torn tail that recovery truncates
/// (for example a checksum mismatch in an older, fsynced segment): the engine refuses to guess.
/// </summary>
public sealed class MessageLogCorruptionException : IOException
{
    public MessageLogCorruptionException() { }

    public MessageLogCorruptionException(string message) : base(message) { }

    public MessageLogCorruptionException(string message, Exception innerException) : base(message, innerException) { }
}
