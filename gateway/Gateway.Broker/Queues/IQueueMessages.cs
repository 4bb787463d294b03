using Gateway.Broker.Delivery;

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

    /// <summary>Whether a new message may be enqueued: false when the queue is full and its x-overflow is reject-publish(-dlx).</summary>
    bool AcceptsPublish();
}
