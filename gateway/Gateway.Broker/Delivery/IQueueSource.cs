using Gateway.Log;

namespace Gateway.Broker.Delivery;

/// <summary>
/// The messages of one queue as the dispatcher needs them: how many are ready, take some for delivery,
/// and settle or requeue one taken earlier. <see cref="MessageLogQueueSource"/> is the implementation over
/// the log; tests use an in-memory one. Design: docs/dispatcher.md.
/// </summary>
/// <remarks>
/// Every member must be thread-safe: the dispatcher takes from one thread at a time per queue, but
/// basic.get, acknowledgements and channel closes arrive from the server's channel threads at the same time.
/// Whenever <see cref="Ready"/> is positive, <see cref="Take"/> must return at least one message unless
/// another caller took them first: the dispatcher schedules a queue on the strength of <see cref="Ready"/>.
/// </remarks>
public interface IQueueSource
{
    /// <summary>Messages ready for delivery (neither in flight nor settled), including appends that have completed.</summary>
    long Ready { get; }

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> ready messages in delivery order (requeued ones first) and
    /// marks them in flight until <see cref="Settle"/> or <see cref="Requeue"/>.
    /// </summary>
    IReadOnlyList<TakenMessage> Take(int maxCount);

    /// <summary>Settles an in-flight message (ack, or reject/nack without requeue). False if it was not in flight.</summary>
    bool Settle(long offset);

    /// <summary>
    /// An in-flight message rejected without requeue (basic.reject / basic.nack): discarded, or handed to
    /// the queue's dead-letter exchange by sources that have one. False if it was not in flight.
    /// </summary>
    bool Reject(long offset) => Settle(offset);

    /// <summary>Told that messages were appended (<paramref name="withExpiration"/>: one carries its own expiration), before the dispatcher is woken.</summary>
    void Appended(bool withExpiration)
    {
    }

    /// <summary>Makes an in-flight message ready again, to be delivered flagged redelivered. False if it was not in flight.</summary>
    bool Requeue(long offset);

    /// <summary>
    /// The consumer gave the message back (basic.nack / basic.reject with requeue=true), as opposed to a
    /// requeue because its channel went away: sources with graded redelivery delay it; the others requeue.
    /// </summary>
    bool Return(long offset) => Requeue(offset);
}
