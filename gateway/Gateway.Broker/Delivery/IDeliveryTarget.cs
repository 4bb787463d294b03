using Gateway.Log;

namespace Gateway.Broker.Delivery;

/// <summary>
/// Where the deliveries of one channel go: the server implements it for each AMQP channel and turns the
/// calls into frames. Design: docs/dispatcher.md.
/// </summary>
/// <remarks>
/// The calls for one channel never overlap and come in wire order: delivery tags increase from call to
/// call, and a consumer's last delivery comes before its <see cref="ConsumerCancelled"/>. They are made
/// while the broker holds the channel's delivery lock, from dispatch workers as well as from the caller of
/// <see cref="DeliveryChannel.Get"/>, so an implementation must not block (no socket writes, no waiting
/// for flushes), must not call back into the channel or its queues, and must not throw (a connection that
/// can no longer write is closed, and its channels' <see cref="DeliveryChannel.Close"/> requeues what they
/// hold): it appends the frames to the channel's ordered output and returns. Replies the server writes
/// itself (basic.consume-ok, basic.cancel-ok, basic.recover-ok) must go through the same ordered output, so
/// that a reply sent after a broker call returned is written after every frame that call produced. A channel
/// whose output falls behind is paused with <see cref="DeliveryChannel.Pause"/>.
/// </remarks>
public interface IDeliveryTarget
{
    /// <summary>basic.deliver to a consumer of the channel.</summary>
    void Deliver(in ConsumerDelivery delivery);

    /// <summary>basic.get-ok in answer to <see cref="DeliveryChannel.Get"/> on the calling thread.</summary>
    void DeliverGetOk(in GetDelivery delivery);

    /// <summary>
    /// The broker cancelled a consumer because its queue was deleted: RabbitMQ then sends basic.cancel to
    /// clients that announced the consumer_cancel_notify capability, and nothing to the others.
    /// </summary>
    void ConsumerCancelled(string consumerTag);

    /// <summary>
    /// A delivery on this channel has waited for its acknowledgement longer than <paramref name="timeout"/>
    /// (the consumer timeout): RabbitMQ closes the channel with 406 PRECONDITION_FAILED, which requeues its
    /// unacknowledged deliveries. Called once, from a timer thread.
    /// </summary>
    void DeliveryTimedOut(TimeSpan timeout)
    {
    }
}

/// <summary>One basic.deliver.</summary>
/// <param name="ConsumerTag">The consumer it goes to.</param>
/// <param name="DeliveryTag">
/// The channel's tag for it, to be acknowledged with (also assigned to no-ack deliveries, as in RabbitMQ).
/// </param>
/// <param name="Redelivered">AMQP's redelivered flag: it was delivered before (requeued, or possibly delivered before a restart).</param>
/// <param name="Message">The stored message: its properties hold the content header written at publish.</param>
/// <param name="DeliveryCount">
/// For quorum queues, times the message was returned before: RabbitMQ 3.10 adds it as the x-delivery-count
/// header to a consumer's delivery once it is above 0. Null for other queues.
/// </param>
public readonly record struct ConsumerDelivery(string ConsumerTag, ulong DeliveryTag, bool Redelivered, StoredMessage Message, int? DeliveryCount = null);

/// <summary>One basic.get-ok.</summary>
/// <param name="DeliveryTag">The channel's tag for it, from the same sequence as consumer deliveries.</param>
/// <param name="Redelivered">AMQP's redelivered flag.</param>
/// <param name="MessageCount">Messages still ready in the queue after this one (basic.get-ok message-count).</param>
/// <param name="Message">The stored message.</param>
/// <param name="DeliveryCount">For quorum queues, times the message was returned before: RabbitMQ 3.10 adds x-delivery-count to every basic.get-ok of a quorum queue, 0 included. Null for other queues.</param>
public readonly record struct GetDelivery(ulong DeliveryTag, bool Redelivered, long MessageCount, StoredMessage Message, int? DeliveryCount = null);
