using Gateway.Broker.Delays;
using Gateway.Log;
using MetaService.Contracts;

namespace Gateway.Broker.Queues;

/// <summary>
/// Graded delayed redelivery (our extension, selected by a policy; docs/queue-features.md): a message a
/// consumer gives back (basic.nack / basic.reject with requeue) leaves its queue and comes back after the
/// policy's next delay, as a copy carrying its count in <c>x-delivery-count</c>, so it never blocks the
/// messages behind it. Past the policy's limit it is dead-lettered (reason delivery_limit) to the queue's
/// dead-letter exchange, or, without one, to the queue's dead-letter queue <c>&lt;queue&gt;.dlq</c>,
/// which is declared when first needed. Nothing is dropped: the original is settled only once its copy is durable.
/// </summary>
public sealed class GradedRedelivery(
    IMessageLog log,
    IMessageFormat format,
    DeadLetterPublisher deadLetters,
    DelayStore delays,
    Func<QueueIdentity, Task<string>> ensureDeadLetterQueue,
    TimeProvider time)
{
    /// <summary>The dead-letter queue of a queue without a dead-letter exchange.</summary>
    public static string DeadLetterQueueName(string queue) => queue + ".dlq";

    /// <summary>Takes over an in-flight message of <paramref name="queue"/> the consumer returned; false if it was not in flight.</summary>
    public bool Return(QueueMessages queue, long offset, GradedRedeliveryPolicy policy)
    {
        IReadOnlyList<StoredMessage> stored = log.Read(queue.Topic, offset, 1);
        if (stored is not [var message] || message.Offset != offset)
        {
            return queue.Requeue(offset);
        }

        long returns = format.DeliveryCount(message) + 1;
        if (returns > policy.DeliveryLimit)
        {
            _ = DeadLetterAsync(queue, message);
        }
        else
        {
            _ = RedeliverLaterAsync(queue, message, returns, time.GetUtcNow() + policy.DelayAfterReturn(returns));
        }

        return true;
    }

    private async Task RedeliverLaterAsync(QueueMessages queue, StoredMessage message, long returns, DateTimeOffset due)
    {
        try
        {
            // Held in the queue's delay topic until due, then appended to the queue again (at its tail, with a
            // new publish time: message TTL counts from the redelivery, as for the delayed exchange's messages).
            await delays.ScheduleAsync(
                new QueueDelayTarget(queue.Queue.VirtualHost, queue.Queue.Name),
                format.WithDeliveryCount(message, returns),
                message.Body,
                due.ToUnixTimeMilliseconds(),
                message.RoutingKeyHash).ConfigureAwait(false);
            log.Settle(message.Topic, message.Offset);
        }
        catch (Exception ex)
        {
            // Not stored (disk full, log closing): better an immediate redelivery than a lost message.
            deadLetters.ReportFailure(queue.Queue.Name, ex);
            queue.Requeue(message.Offset);
        }
    }

    private async Task DeadLetterAsync(QueueMessages queue, StoredMessage message)
    {
        try
        {
            QueueArguments arguments = queue.Arguments;
            if (arguments.DeadLetterExchange is null)
            {
                // Through the default exchange straight to the queue's own dead-letter queue.
                string deadLetterQueue = await ensureDeadLetterQueue(queue.Queue).ConfigureAwait(false);
                arguments = arguments with { DeadLetterExchange = "", DeadLetterRoutingKey = deadLetterQueue };
            }

            deadLetters.DeadLetter(queue.Queue, arguments, message, DeadLetterReason.DeliveryLimit);
        }
        catch (Exception ex)
        {
            deadLetters.ReportFailure(queue.Queue.Name, ex);
            queue.Requeue(message.Offset);
        }
    }
}
