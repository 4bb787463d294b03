using Gateway.Broker.Delivery;
using Gateway.Broker.Routing;
using Gateway.Log;

namespace Gateway.Broker.Queues;

/// <summary>
/// Moves a message out of a queue because it was rejected, expired or pushed out: to the queue's
/// dead-letter exchange when it has one (RabbitMQ's rabbit_dead_letter), else it is discarded. The copy
/// is appended to the log first and the original settled only once the copy is durable, so a crash in
/// between leaves the message in its queue (it may then be dead-lettered twice, never lost). A copy
/// the log refuses leaves the original in the queue as well: it is put back and tried again later.
/// </summary>
public sealed class DeadLetterPublisher
{
    private readonly IMessageLog _log;
    private readonly IMessageFormat? _format;
    private readonly Func<string, VirtualHostRoutingTable> _routing;
    private readonly Func<string, string, byte, (string Topic, DispatchQueue Queue)?> _findQueue;
    private readonly TimeProvider _time;
    private readonly Action<string, Exception>? _failed;

    /// <param name="format">The server's message format; without one (broker-only tests) nothing can be copied and messages are discarded.</param>
    /// <param name="routing">The routing table of a virtual host.</param>
    /// <param name="findQueue">A queue's dispatch state and the topic a message of the given priority goes to, by (virtual host, name, priority), or null if it is gone.</param>
    /// <param name="failed">Told when a copy could not be written (the original stays queued).</param>
    public DeadLetterPublisher(
        IMessageLog log,
        IMessageFormat? format,
        Func<string, VirtualHostRoutingTable> routing,
        Func<string, string, byte, (string Topic, DispatchQueue Queue)?> findQueue,
        TimeProvider time,
        Action<string, Exception>? failed = null)
    {
        _log = log;
        _format = format;
        _routing = routing;
        _findQueue = findQueue;
        _time = time;
        _failed = failed;
    }

    /// <summary>
    /// Dead-letters <paramref name="message"/>, which the caller has taken (it is in flight) from
    /// <paramref name="queue"/>'s topic. Returns at once; the copy is written in the background.
    /// </summary>
    public void DeadLetter(QueueIdentity queue, QueueArguments arguments, StoredMessage message, DeadLetterReason reason)
    {
        if (arguments.DeadLetterExchange is not { } exchange || _format is null)
        {
            _log.Settle(message.Topic, message.Offset);
            return;
        }

        _ = CopyThenSettleAsync(queue, new DeadLetterEvent(queue.Name, reason, _time.GetUtcNow(), exchange, arguments.DeadLetterRoutingKey), message);
    }

    /// <summary>
    /// Dead-letters a published message that <paramref name="queue"/> refused because it was full
    /// (x-overflow reject-publish-dlx, reason maxlen): it never was in the queue, so there is nothing to
    /// settle. <paramref name="storedProperties"/> is the envelope as it would have been stored.
    /// </summary>
    public void DeadLetterRefused(QueueIdentity queue, QueueArguments arguments, ReadOnlyMemory<byte> storedProperties, ReadOnlyMemory<byte> body)
    {
        if (arguments.DeadLetterExchange is not { } exchange || _format is null)
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        var message = new StoredMessage(Topic: "", Offset: NotStored, Position: NotStored, now.ToUnixTimeMilliseconds(), 0, storedProperties, body);
        _ = CopyThenSettleAsync(queue, new DeadLetterEvent(queue.Name, DeadLetterReason.MaxLength, now, exchange, arguments.DeadLetterRoutingKey), message);
    }

    private const long NotStored = -1;

    private async Task CopyThenSettleAsync(QueueIdentity queue, DeadLetterEvent death, StoredMessage message)
    {
        try
        {
            DeadLetteredMessage copy = _format!.DeadLetter(message, death);
            var (topics, queues) = Route(queue, death, copy, message);
            if (topics.Count > 0)
            {
                await _log.AppendAsync(new LogMessage(copy.Properties, message.Body, death.Time.ToUnixTimeMilliseconds(), topics, copy.RoutingKeyHash))
                    .ConfigureAwait(false);
            }

            if (message.Offset != NotStored)
            {
                _log.Settle(message.Topic, message.Offset);
            }

            foreach (DispatchQueue target in queues)
            {
                target.NotifyMessagesAppended();
            }
        }
        catch (Exception ex)
        {
            // Not written (disk full, log closing, a target deleted meanwhile, an unreadable message): the
            // original stays, ready again. Nothing here may escape: this runs detached from any caller.
            _failed?.Invoke(queue.Name, ex);
            try
            {
                if (message.Offset != NotStored)
                {
                    _log.Requeue(message.Topic, message.Offset);
                }
            }
            catch (Exception)
            {
                // The source queue (its topic) or the log itself is gone: nothing is left to keep.
            }
        }
    }

    /// <summary>Reports a failure of the expiry or dead-letter machinery for <paramref name="queue"/> (log event 2006).</summary>
    internal void ReportFailure(string queue, Exception exception) => _failed?.Invoke(queue, exception);

    private (List<string> Topics, List<DispatchQueue> Queues) Route(QueueIdentity source, DeadLetterEvent death, DeadLetteredMessage copy, StoredMessage message)
    {
        var topics = new List<string>();
        var queues = new List<DispatchQueue>();
        VirtualHostRoutingTable routing = _routing(source.VirtualHost);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        foreach (string key in copy.RoutingKeys)
        {
            // A missing dead-letter exchange routes nowhere: RabbitMQ drops the message silently then.
            RoutingResult result = routing.Route(death.DeadLetterExchange, key, copy.Headers);
            reached.UnionWith(result.Queues);
        }

        IReadOnlyList<(string Queue, DeadLetterReason Reason)>? deaths = null;
        byte? priority = null;   // the copy keeps the message's priority, which picks a priority queue's level
        foreach (string name in reached)
        {
            // The death happening now counts: a queue whose TTL dead-letters into itself drops the message at once.
            if (death.Reason != DeadLetterReason.Rejected && IsCycle(name, deaths ??= [(source.Name, death.Reason), .. _format!.Deaths(message)]))
            {
                continue;
            }

            if (_findQueue(source.VirtualHost, name, priority ??= _format!.Priority(message)) is { } target)
            {
                topics.Add(target.Topic);
                queues.Add(target.Queue);
            }
        }

        return (topics, queues);
    }

    /// <summary>
    /// rabbit_dead_letter:detect_cycles: a message that already died in <paramref name="target"/> and was
    /// never rejected on the way would circle forever (a queue whose TTL dead-letters into itself), so that
    /// queue does not get it. A rejection anywhere makes the cycle a client's decision, which is allowed.
    /// </summary>
    private static bool IsCycle(string target, IReadOnlyList<(string Queue, DeadLetterReason Reason)> deaths) =>
        deaths.Any(d => d.Queue == target) && deaths.All(d => d.Reason != DeadLetterReason.Rejected);
}

/// <summary>A queue's name in its virtual host.</summary>
public readonly record struct QueueIdentity(string VirtualHost, string Name);
