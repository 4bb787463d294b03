using Gateway.Broker.Delivery;
using MetaService.Contracts;

namespace Gateway.Broker.Queues;

/// <summary>
/// A queue's messages as topology and the publish path see them, whether they live in one log topic
/// (<see cref="QueueMessages"/>) or in one topic per priority level (<see cref="PriorityQueueMessages"/>).
/// </summary>
public interface IQueueMessages : IQueueSource
{
    /// <summary>The queue's name in its virtual host.</summary>
    QueueIdentity Queue { get; }

    /// <summary>The queue's arguments, for its dead-letter exchange and x-overflow.</summary>
    QueueArguments Arguments { get; }

    /// <summary>
    /// Whether a new message with a body of <paramref name="bodyBytes"/> may be enqueued: false when the queue
    /// is full (x-max-length, x-max-length-bytes) and its x-overflow is reject-publish(-dlx). A transaction's
    /// commit passes what it already accepted for the queue (<paramref name="alreadyAccepted"/> messages of
    /// <paramref name="alreadyAcceptedBytes"/> body bytes), which counts as enqueued.
    /// </summary>
    bool AcceptsPublish(long bodyBytes = 0, int alreadyAccepted = 0, long alreadyAcceptedBytes = 0);

    /// <summary>The graded redelivery its policy selects, or null (a returned message is requeued at once, as in RabbitMQ).</summary>
    GradedRedeliveryPolicy? RedeliveryPolicy { get; }

    /// <summary>queue.purge: settles every ready message (in-flight ones stay) and returns how many.</summary>
    long Purge();

    /// <summary>The policy in force for the queue changed (or is first known): see <see cref="QueueMessages.ApplyPolicy"/>.</summary>
    void ApplyPolicy(PolicyRecord? policy);
}
