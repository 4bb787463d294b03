using System.Security.Cryptography;
using Gateway.Broker.Delivery;
using Gateway.Broker.Topology;
using Gateway.Log;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;
using Gateway.Server.Errors;
using Gateway.Server.Logging;
using Gateway.Server.Publishing;

namespace Gateway.Server.Channels;

/// <summary>
/// basic.qos, basic.consume, basic.cancel, basic.get, basic.ack, basic.nack, basic.reject and
/// basic.recover, mapped onto the broker's <see cref="DeliveryChannel"/> (docs/dispatcher.md). Deliveries
/// are encoded by <see cref="DeliveryTarget"/> into the connection's ordered output without waiting;
/// replies go through the same output, so consume-ok precedes the first delivery as on RabbitMQ.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>Unflushed output beyond which the channel's deliveries pause until it drains (RabbitMQ's writer credit flow).</summary>
    private const long PauseDeliveriesAtBufferedBytes = 4 * 1024 * 1024;

    private DeliveryChannel? _delivery;
    // This channel's consumers by tag: what to release and possibly auto-delete when each one ends.
    private readonly Dictionary<string, (DispatchQueue Queue, bool Exclusive)> _consumers = new(StringComparer.Ordinal);

    private DeliveryChannel Delivery(TopologyService topology)
    {
        if (_delivery is null)
        {
            _delivery = topology.Dispatcher.OpenChannel(new DeliveryTarget(this), _connection.ClientIdentity, Number);
            if (_transaction is not null)
            {
                _delivery.SelectTransactions();
            }
        }

        return _delivery;
    }

    private ValueTask? HandleDeliveryMethod(AmqpMethodId id, ReadOnlySpan<byte> arguments)
    {
        if (_connection.Topology is not { } topology || _connection.Session is not { } session)
        {
            return null;
        }

        switch (id)
        {
            case AmqpMethodId.BasicQos:
                return Qos(topology, BasicQos.Read(arguments));
            case AmqpMethodId.BasicConsume:
                return Run(id, ConsumeAsync(topology, session, BasicConsume.Read(arguments)));
            case AmqpMethodId.BasicCancel:
                return Cancel(BasicCancel.Read(arguments));
            case AmqpMethodId.BasicGet:
                return Run(id, GetAsync(topology, session, BasicGet.Read(arguments)));
            case AmqpMethodId.BasicAck:
                {
                    var ack = BasicAck.Read(arguments);
                    AcknowledgeResult? acked = _delivery?.Ack(ack.DeliveryTag, ack.Multiple);
                    if (acked is { IsUnknownDeliveryTag: false, Count: > 0 } settled)
                    {
                        MessageCounters.Acknowledged(settled.Count);
                    }

                    return Acknowledged(id, acked, ack.DeliveryTag);
                }

            case AmqpMethodId.BasicNack:
                {
                    var nack = BasicNack.Read(arguments);
                    return Acknowledged(id, _delivery?.Nack(nack.DeliveryTag, nack.Multiple, nack.Requeue), nack.DeliveryTag);
                }

            case AmqpMethodId.BasicReject:
                {
                    var reject = BasicReject.Read(arguments);
                    return Acknowledged(id, _delivery?.Reject(reject.DeliveryTag, reject.Requeue), reject.DeliveryTag);
                }

            case AmqpMethodId.BasicRecover:
                {
                    var recover = BasicRecover.Read(arguments);
                    if (!recover.Requeue)
                    {
                        // rabbit_channel: redelivering to the original consumer is not supported.
                        throw new AmqpException(ReplyCode.NotImplemented, "requeue=false", id);
                    }

                    _delivery?.Recover();
                    return _connection.Output.SendMethodAsync(Number, new BasicRecoverOk());
                }

            default:
                return null;
        }
    }

    private ValueTask Qos(TopologyService topology, BasicQos qos)
    {
        if (qos.PrefetchSize != 0)
        {
            throw new AmqpException(ReplyCode.NotImplemented, $"prefetch_size!=0 ({qos.PrefetchSize})", AmqpMethodId.BasicQos);
        }

        // RabbitMQ's reinterpretation: global=false limits each consumer created afterwards, global=true the whole channel.
        Delivery(topology).SetQos(qos.PrefetchCount, qos.Global);
        return _connection.Output.SendMethodAsync(Number, new BasicQosOk());
    }

    private string? _replyConsumerTag;   // the consumer of amq.rabbitmq.reply-to on this channel, if any
    private string? _replyAddress;       // its address, what reply_to becomes

    /// <summary>basic.consume from amq.rabbitmq.reply-to, with RabbitMQ's rules: no-ack only, one per channel.</summary>
    private async Task ConsumeRepliesAsync(TopologyService topology, BasicConsume consume)
    {
        if (!consume.NoAck)
        {
            throw new AmqpException(ReplyCode.PreconditionFailed, "reply consumer cannot acknowledge", AmqpMethodId.BasicConsume);
        }

        if (_replyConsumerTag is not null)
        {
            throw new AmqpException(ReplyCode.PreconditionFailed, "reply consumer already set", AmqpMethodId.BasicConsume);
        }

        string tag = ConsumerTagFor(consume, Delivery(topology));
        _replyConsumerTag = tag;
        _replyAddress = _connection.DirectReplies.Register(this);
        if (!consume.NoWait)
        {
            await _connection.Output.SendMethodAsync(Number, new BasicConsumeOk(tag));
        }
    }

    /// <summary>
    /// A reply published to this channel's reply address: delivered at once, no-ack, never stored, with
    /// exchange "" and the address as routing key, as RabbitMQ delivers it. False if the reply consumer is gone.
    /// </summary>
    internal bool DeliverReply(string routingKey, byte[] properties, byte[] body)
    {
        if (_replyConsumerTag is not { } tag || _closed || _connection.Topology is not { } topology)
        {
            return false;
        }

        ulong deliveryTag;
        try
        {
            deliveryTag = Delivery(topology).TakeDeliveryTag();
        }
        catch (InvalidOperationException)
        {
            return false;   // the channel closed meanwhile
        }

        _ = _connection.Output.EnqueueMethodWithContent(
            Number, new BasicDeliver(tag, deliveryTag, redelivered: false, "", routingKey), properties, body, _connection.FrameMax);
        return true;
    }

    private void StopReplies()
    {
        if (_replyAddress is { } address)
        {
            _connection.DirectReplies.Unregister(address);
        }

        _replyConsumerTag = null;
        _replyAddress = null;
    }

    private async Task ConsumeAsync(TopologyService topology, BrokerSession session, BasicConsume consume)
    {
        if (consume.Queue == DirectReplyTo.PseudoQueue)
        {
            await ConsumeRepliesAsync(topology, consume);
            return;
        }

        string queueName = QueueName(consume.Queue, AmqpMethodId.BasicConsume);
        await PublishedSoFarAsync();
        DispatchQueue queue = await topology.QueueForConsumingAsync(session, queueName);
        DeliveryChannel delivery = Delivery(topology);
        string tag = ConsumerTagFor(consume, delivery);

        topology.CheckConsumer(session, queue, queueName, consume.Exclusive, tag);
        _consumers[tag] = (queue, consume.Exclusive);

        // consume-ok first: deliveries may start the moment the consumer exists.
        if (!consume.NoWait)
        {
            await _connection.Output.SendMethodAsync(Number, new BasicConsumeOk(tag));
        }

        delivery.Consume(queue, tag, consume.NoAck, ConsumerPriority(consume.Arguments));
    }

    /// <summary>x-priority of basic.consume (rabbitmq.com/consumer-priority): any integer type; absent or otherwise 0.</summary>
    private static int ConsumerPriority(FieldTable? arguments) =>
        arguments is not null && arguments.TryGetValue("x-priority", out object? value)
            ? value switch
            {
                sbyte n => n,
                byte n => n,
                short n => n,
                ushort n => n,
                int n => n,
                uint n => (int)Math.Min(n, int.MaxValue),
                long n => (int)Math.Clamp(n, int.MinValue, int.MaxValue),
                _ => 0,
            }
            : 0;

    private async ValueTask Cancel(BasicCancel cancel)
    {
        if (cancel.ConsumerTag == _replyConsumerTag)
        {
            StopReplies();
        }

        _delivery?.Cancel(cancel.ConsumerTag);

        // RabbitMQ answers cancel-ok even for a tag it does not know; an auto-delete queue is gone by then.
        if (_consumers.Remove(cancel.ConsumerTag, out var consumer) && _connection.Topology is { } topology)
        {
            if (consumer.Exclusive)
            {
                topology.ReleaseExclusiveConsumer(consumer.Queue, cancel.ConsumerTag);
            }

            await topology.ConsumerRemovedAsync(consumer.Queue);
        }

        if (!cancel.NoWait)
        {
            await _connection.Output.SendMethodAsync(Number, new BasicCancelOk(cancel.ConsumerTag));
        }
    }

    private async Task GetAsync(TopologyService topology, BrokerSession session, BasicGet get)
    {
        string queueName = QueueName(get.Queue, AmqpMethodId.BasicGet);
        await PublishedSoFarAsync();
        DispatchQueue queue = await topology.QueueForConsumingAsync(session, queueName);
        // A message goes out as get-ok from inside Get (through the delivery target), in order with this reply path.
        if (!Delivery(topology).Get(queue, get.NoAck))
        {
            await _connection.Output.SendMethodAsync(Number, new BasicGetEmpty());
        }
    }

    private static ValueTask Acknowledged(AmqpMethodId method, AcknowledgeResult? result, ulong deliveryTag)
    {
        if (result is not { IsUnknownDeliveryTag: false })
        {
            // Never delivered, already settled, or delivered no-ack: RabbitMQ closes the channel with 406.
            throw new AmqpException(ReplyCode.PreconditionFailed, result?.ErrorText ?? $"unknown delivery tag {deliveryTag}", method);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The channel closed (either side) or its connection went: consumers end and unacked messages are requeued in delivery-tag order.</summary>
    private void CloseDelivery()
    {
        StopReplies();
        _delivery?.Close();
        if (_connection.Topology is { } topology)
        {
            foreach ((string tag, (DispatchQueue queue, bool exclusive)) in _consumers)
            {
                if (exclusive)
                {
                    topology.ReleaseExclusiveConsumer(queue, tag);
                }
            }

            foreach (DispatchQueue queue in _consumers.Values.Select(c => c.Queue).Distinct())
            {
                _ = DeleteIfAutoDeleteAsync(topology, queue);
            }
        }

        _consumers.Clear();
    }

    /// <summary>Closing is synchronous; the auto-delete that may follow runs on its own and only logs a failure.</summary>
    private async Task DeleteIfAutoDeleteAsync(TopologyService topology, DispatchQueue queue)
    {
        try
        {
            await topology.ConsumerRemovedAsync(queue);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            AmqpConnectionLog.AutoDeleteFailed(_connection.Logger, _connection.Id, ex);
        }
    }

    /// <summary>The consume's tag, or a server-generated one; reusing a tag of the channel is a hard error in RabbitMQ (rabbit_channel: not_allowed).</summary>
    private static string ConsumerTagFor(BasicConsume consume, DeliveryChannel delivery)
    {
        string tag = consume.ConsumerTag.Length > 0 ? consume.ConsumerTag : NewConsumerTag();
        return delivery.HasConsumer(tag)
            ? throw new AmqpException(ReplyCode.NotAllowed, $"attempt to reuse consumer tag '{tag}'", AmqpMethodId.BasicConsume)
            : tag;
    }

    /// <summary>RabbitMQ's server-generated tags: "amq.ctag-" and 22 URL-safe base64 characters of randomness.</summary>
    private static string NewConsumerTag() =>
        "amq.ctag-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Turns the dispatcher's deliveries into frames in the connection's ordered output. Called under the
    /// broker's channel lock from dispatch workers: never blocks, never throws, never calls back.
    /// </summary>
    private sealed class DeliveryTarget(AmqpChannel channel) : IDeliveryTarget
    {
        public void Deliver(in ConsumerDelivery delivery)
        {
            if (!TryDecode(delivery.Message, out string exchange, out string routingKey, out ReadOnlyMemory<byte> properties))
            {
                return;
            }

            // RabbitMQ 3.10 shows a quorum queue's count to consumers only once the message was returned.
            if (delivery.DeliveryCount is { } count and > 0)
            {
                properties = AmqpMessageFormat.WithDeliveryCount(properties, count);
            }

            channel.MessageCounters.Delivered(delivery.Redelivered);
            Watch(channel._connection.Output.EnqueueMethodWithContent(
                channel.Number,
                new BasicDeliver(delivery.ConsumerTag, delivery.DeliveryTag, delivery.Redelivered, exchange, routingKey),
                properties,
                delivery.Message.Body,
                channel._connection.FrameMax));
        }

        public void DeliverGetOk(in GetDelivery delivery)
        {
            if (!TryDecode(delivery.Message, out string exchange, out string routingKey, out ReadOnlyMemory<byte> properties))
            {
                return;
            }

            // …but to basic.get on every delivery, 0 included.
            if (delivery.DeliveryCount is { } count)
            {
                properties = AmqpMessageFormat.WithDeliveryCount(properties, count);
            }

            channel.MessageCounters.Delivered(delivery.Redelivered);
            channel._connection.Output.EnqueueMethodWithContent(
                channel.Number,
                new BasicGetOk(delivery.DeliveryTag, delivery.Redelivered, exchange, routingKey, (uint)Math.Clamp(delivery.MessageCount, 0, uint.MaxValue)),
                properties,
                delivery.Message.Body,
                channel._connection.FrameMax);
        }

        public void ConsumerCancelled(string consumerTag)
        {
            // RabbitMQ tells only clients that announced consumer_cancel_notify.
            if (channel._connection.ClientHasCapability("consumer_cancel_notify"))
            {
                channel._connection.Output.Enqueue(
                    static (output, state) => Gateway.Protocol.Frames.FrameWriter.WriteMethod(output, state.Number, new BasicCancel(state.consumerTag, noWait: true)),
                    (channel.Number, consumerTag));
            }
        }

        public void DeliveryTimedOut(TimeSpan timeout)
        {
            // rabbit_channel:evaluate_consumer_timeout; the text is RabbitMQ's, class and method 0 ("operation none").
            string text = string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"delivery acknowledgement on channel {channel.Number} timed out. Timeout value used: {(long)timeout.TotalMilliseconds} ms. This timeout value can be configured, see consumers doc guide to learn more");
            channel._connection.Post(() => channel.CloseFromBrokerAsync(new AmqpException(ReplyCode.PreconditionFailed, text)));
        }

        /// <summary>Pauses the channel's deliveries while its connection's output is backed up; resumes once this write is flushed.</summary>
        private void Watch(Task flushed)
        {
            if (channel._connection.Output.BufferedBytes <= PauseDeliveriesAtBufferedBytes || channel._delivery is not { } delivery)
            {
                return;
            }

            delivery.Pause();
            flushed.ContinueWith(
                static (_, state) => ((DeliveryChannel)state!).Resume(), delivery, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private bool TryDecode(StoredMessage message, out string exchange, out string routingKey, out ReadOnlyMemory<byte> properties)
        {
            try
            {
                (exchange, routingKey, properties) = StoredEnvelope.Decode(message.Properties);
                return true;
            }
            catch (InvalidDataException ex)
            {
                AmqpConnectionLog.UndeliverableMessage(channel._connection.Logger, channel._connection.Id, channel.Number, message.Topic, message.Offset, ex);
                (exchange, routingKey, properties) = (string.Empty, string.Empty, default);
                return false;
            }
        }
    }
}
