using System.Buffers;
using Gateway.Broker.Delivery;
using Gateway.Broker.Queues;
using Gateway.Broker.Topology;
using Gateway.Log;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Confirm;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;
using Gateway.Server.Control;
using Gateway.Server.Errors;
using Gateway.Server.Logging;
using Gateway.Server.Publishing;
using MetaService.Contracts;

namespace Gateway.Server.Channels;

/// <summary>
/// basic.publish and publisher confirms. A published message is routed at publish time, written
/// once to the log with every destination queue's topic, and — in confirm mode — acked only once
/// the log reports it durable (nacked if the log refuses it). An unroutable mandatory message comes
/// back as basic.return (312 NO_ROUTE) before its confirm, as RabbitMQ orders them.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>
    /// Appends in flight per channel before the read loop waits for them: a publisher that outruns the
    /// disk is slowed through TCP, not buffered. The connection's byte budget bounds large messages.
    /// </summary>
    private const int MaxAppendsInFlight = 4096;

    private BasicPublish _publish;
    private byte[] _contentProperties = [];
    private byte[]? _contentBody;
    private int _contentBodyFilled;
    private bool _contentOversized;
    private ulong _oversizedBodySize;

    private ExchangePublishing? _publishingTo;   // where the last publish counted (traffic control), reused while the exchange stays the same

    private PublisherConfirms? _confirms;   // set by confirm.select
    private ulong _publishSequence;
    private int _appendsInFlight;
    private Task _lastAppend = Task.CompletedTask;

    private ValueTask SelectConfirms(ReadOnlySpan<byte> arguments)
    {
        var select = ConfirmSelect.Read(arguments);
        if (_transaction is not null)
        {
            // rabbit_channel: the two modes exclude each other.
            throw new AmqpException(ReplyCode.PreconditionFailed, "cannot switch from tx to confirm mode", AmqpMethodId.ConfirmSelect);
        }

        _confirms ??= new PublisherConfirms(
            (deliveryTag, multiple) => SendConfirm(new BasicAck(deliveryTag, multiple)),
            deliveryTag => SendConfirm(new BasicNack(deliveryTag, multiple: false, requeue: false)),
            arrivedTimestamp => _connection.Metrics.PublishConfirmed(_connection.Time.GetElapsedTime(arrivedTimestamp)));
        return select.NoWait ? ValueTask.CompletedTask : _connection.Output.SendMethodAsync(Number, new ConfirmSelectOk());
    }

    /// <summary>Content header of a basic.publish: keep its properties and make room for the body (unless it is over the limit).</summary>
    private void BeginPublishContent(in ContentHeader header)
    {
        _contentProperties = header.PropertyBytes.ToArray();
        _contentOversized = header.BodySize > (ulong)_connection.MaxMessageSize;
        _oversizedBodySize = header.BodySize;
        _contentBody = _contentOversized ? null : new byte[header.BodySize];
        _contentBodyFilled = 0;
    }

    private void AddPublishBody(in ReadOnlySequence<byte> payload)
    {
        if (_contentBody is null)
        {
            return;   // oversized: the frames are read and dropped, the 406 follows the whole command
        }

        payload.CopyTo(_contentBody.AsSpan(_contentBodyFilled));
        _contentBodyFilled += (int)payload.Length;
    }

    /// <summary>
    /// Counts the basic.publish for its exchange and takes a token from every publish limit in force (the
    /// vhost's, the exchange's). Null when it may go on now; else the limits it has to wait for. Without any
    /// limit this is a cached lookup, an interlocked increment and two null checks.
    /// </summary>
    private ExchangePublishing? PublishLimitWait(BrokerSession session)
    {
        if (_connection.Traffic is not { } traffic)
        {
            return null;
        }

        string exchange = _publish.Exchange;
        if (_publishingTo is not { } publishing || publishing.Retired || !string.Equals(publishing.Exchange, exchange, StringComparison.Ordinal))
        {
            _publishingTo = publishing = traffic.ForExchange(session.VirtualHost, exchange);
        }

        publishing.CountPublished();
        return publishing.IsLimited && publishing.TryAcquire() != TimeSpan.Zero ? publishing : null;
    }

    /// <summary>
    /// A publish limit has no token now: the read loop awaits this before the next frame, so the connection stops
    /// reading its socket (TCP back-pressure) until the limit allows the publish; then it goes on as any other.
    /// No error and no reply code: the client is only slowed, and its confirms come once each message is stored.
    /// </summary>
    private async ValueTask PublishWhenAllowedAsync(
        ExchangePublishing publishing, TopologyService topology, BrokerSession session, BasicPublish publish, byte[] properties, byte[]? body, ulong bodySize)
    {
        if (await _connection.WaitForPublishLimitAsync(publishing))
        {
            await PublishAsync(topology, session, publish, properties, body, bodySize);
        }
    }

    private async ValueTask PublishAsync(TopologyService topology, BrokerSession session, BasicPublish publish, byte[] properties, byte[]? body, ulong bodySize)
    {
        if (publish.Immediate)
        {
            // RabbitMQ 3.x dropped immediate delivery: a hard 540 (rabbit_channel).
            throw new AmqpException(ReplyCode.NotImplemented, "immediate=true", AmqpMethodId.BasicPublish);
        }

        if (body is null)
        {
            throw new AmqpException(
                ReplyCode.PreconditionFailed, $"message size {bodySize} is larger than configured max size {_connection.MaxMessageSize}", AmqpMethodId.BasicPublish);
        }

        ulong sequence = _confirms is null ? 0 : ++_publishSequence;
        long arrived = _confirms is null ? 0 : _connection.Time.GetTimestamp();   // for the confirm latency histogram
        // Decoded only when publishing must read a property: headers (routing), user-id, reply-to (direct reply-to), expiration.
        BasicProperties? parsed = (BasicProperties.PeekFlags(properties) & PropertiesPublishingReads) != 0 ? BasicProperties.Read(properties) : null;
        PublishRoute route;
        try
        {
            // The priority property picks a priority queue's level; reading it costs one flag test when it is absent.
            byte priority = parsed is null ? BasicProperties.PeekPriority(properties) : parsed.Priority ?? 0;
            route = await topology.RoutePublishAsync(
                session,
                publish.Exchange,
                publish.RoutingKey,
                RoutingHeaders.From(parsed?.Headers),
                priority,
                (long)bodySize,
                judgeFullQueuesLater: _transaction is not null);
        }
        catch (MetadataException ex)
        {
            throw new AmqpException((ReplyCode)ex.ReplyCode, ex.Message, AmqpMethodId.BasicPublish);
        }

        if (parsed?.UserId is { } userId && userId != session.User)
        {
            // rabbit_channel:check_user_id_header: a message may only claim its own user.
            throw new AmqpException(
                ReplyCode.PreconditionFailed, $"user_id property set to '{userId}' but authenticated user was '{session.User}'", AmqpMethodId.BasicPublish);
        }

        if (parsed is { ReplyTo: DirectReplyTo.PseudoQueue } withPseudoReplyTo)
        {
            // rabbit_channel:maybe_set_fast_reply_to: the pseudo-queue name becomes this channel's reply address.
            string address = _replyAddress
                ?? throw new AmqpException(ReplyCode.PreconditionFailed, "fast reply consumer does not exist", AmqpMethodId.BasicPublish);
            parsed = withPseudoReplyTo with { ReplyTo = address };
            properties = parsed.ToBytes();
        }

        bool expires = parsed?.Expiration is not null;
        if (parsed?.Expiration is { } expiration)
        {
            // rabbit_channel:check_expiration_header, after the user-id check.
            try
            {
                AmqpMessageFormat.ParseExpiration(expiration);
            }
            catch (FormatException ex)
            {
                throw new AmqpException(ReplyCode.PreconditionFailed, $"invalid expiration '{expiration}': {ex.Message}", AmqpMethodId.BasicPublish);
            }
        }

        if (route.RemoveBccHeader && parsed?.Headers is { } headers)
        {
            // Sender-selected distribution: BCC recipients must not see each other (RabbitMQ strips it before delivery).
            var withoutBcc = parsed with { Headers = new FieldTable(headers.Where(h => h.Key != "BCC")) };
            properties = new byte[withoutBcc.GetRequiredBufferSize()];
            withoutBcc.WriteTo(properties);
        }

        byte[] envelope = StoredEnvelope.Encode(publish.Exchange, publish.RoutingKey, properties);
        // An x-delayed-message exchange delaying it: stored to be routed when due, besides any alternate-exchange queues now.
        Task? scheduled = route.DelayMilliseconds is { } delay
            ? ScheduleDelayed(topology, session, publish.Exchange, publish.RoutingKey, properties, body, delay, _connection.Time.GetUtcNow().ToUnixTimeMilliseconds())
            : null;
        if (_transaction is { } transaction)
        {
            // Checked and routed now, as rabbit_channel does; enqueued (or returned) only at tx.commit. A delayed
            // message is stored now even so: the delayed exchange plugin stores it while routing, at publish.
            if (scheduled is not null)
            {
                await scheduled;
            }

            HoldPublish(transaction, publish, properties, envelope, body, route, expires);
            return;
        }

        if (route.Refused)
        {
            // Full queues with x-overflow reject-publish(-dlx) do not take it; -dlx ones dead-letter it (reason maxlen).
            foreach (IQueueMessages full in route.RefusedBy!)
            {
                if (full.Arguments.Overflow == QueueOverflow.RejectPublishDeadLetter)
                {
                    topology.DeadLetters.DeadLetterRefused(full.Queue, full.Arguments, envelope, body);
                }
            }
        }

        if (route.Topics.Count == 0 && publish.Exchange.Length == 0 && _connection.DirectReplies.Find(publish.RoutingKey) is { } requester
            && requester.DeliverReply(publish.RoutingKey, properties, body))
        {
            _confirms?.Settle(sequence, stored: true, moreInFlight: Volatile.Read(ref _appendsInFlight) > 0, arrived);
            return;
        }

        if (route.Topics.Count == 0)
        {
            if (publish.Mandatory && !route.Refused)
            {
                await _connection.Output.SendMethodWithContentAsync(
                    Number, new BasicReturn((ushort)ReplyCode.NoRoute, "NO_ROUTE", publish.Exchange, publish.RoutingKey), properties, body, _connection.FrameMax);
            }

            if (scheduled is not null)
            {
                await ConfirmWhenScheduledAsync(scheduled, sequence, arrived, envelope.Length + body.Length, route.Refused);
                return;
            }

            // A message refused by a full queue was routed (no return) but not taken: RabbitMQ nacks it.
            _confirms?.Settle(sequence, stored: !route.Refused, moreInFlight: Volatile.Read(ref _appendsInFlight) > 0, arrived);
            return;
        }

        var message = new LogMessage(
            envelope,
            body,
            _connection.Time.GetUtcNow().ToUnixTimeMilliseconds(),
            route.Topics,
            StoredEnvelope.RoutingKeyHash(publish.RoutingKey));
        Task<AppendResult> append;
        try
        {
            append = topology.Log.AppendAsync(message).AsTask();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or MessageLogWriteException or ArgumentException)
        {
            // Refused before queuing: the log is closing, or a destination queue was deleted since routing. A nack, not a crash.
            append = Task.FromException<AppendResult>(ex);
        }

        if (scheduled is not null)
        {
            append = AfterScheduled(scheduled, append);   // confirmed once both the delayed copy and the alternate-exchange copy are durable
        }

        long bytes = message.Properties.Length + message.Body.Length;
        Interlocked.Increment(ref _appendsInFlight);
        _connection.AddPublishBytesInFlight(bytes);
        _lastAppend = CompleteAppendAsync(append, sequence, arrived, route.Queues, bytes, expires, refused: route.Refused);
        if (Volatile.Read(ref _appendsInFlight) >= MaxAppendsInFlight || _connection.PublishBudgetExceeded)
        {
            // The log writes in arrival order, so once this channel's last append is durable every earlier
            // one of the connection is too: the budget is back to at most what arrived after it.
            await _lastAppend;
        }
    }

    /// <summary>Once the log answers: wake the destination queues and settle the confirm (ack when durable, nack when refused; a log line either way when refused).</summary>
    private async Task CompleteAppendAsync(
        Task<AppendResult> append, ulong sequence, long arrived, IReadOnlyList<DispatchQueue> queues, long bytes, bool expires, bool refused)
    {
        bool stored;
        try
        {
            await append.ConfigureAwait(false);
            stored = true;
            MessageCounters.Published(1);
            foreach (DispatchQueue queue in queues)
            {
                queue.NotifyMessagesAppended(expires);   // readable now: wake delivery to its consumers (and its expiry timer)
            }
        }
        catch (Exception ex) when (ex is MessageLogWriteException or ObjectDisposedException or ArgumentException)
        {
            stored = false;
            AmqpConnectionLog.PublishNotStored(_connection.Logger, _connection.Id, Number, sequence, ex);
        }
        finally
        {
            Interlocked.Decrement(ref _appendsInFlight);
            _connection.AddPublishBytesInFlight(-bytes);
        }

        // Stored in some queues but refused by a full one: still a nack, as RabbitMQ's confirm for the message is.
        _confirms?.Settle(sequence, stored && !refused, moreInFlight: Volatile.Read(ref _appendsInFlight) > 0, arrived);
    }

    /// <summary>
    /// Hands a confirm to the connection without waiting for the flush: nothing waits on a confirm's
    /// flush (the read loop is held back by appends in flight), and a closed channel sends nothing more.
    /// </summary>
    private void SendConfirm<TMethod>(TMethod confirm)
        where TMethod : struct, IAmqpMethod<TMethod>
    {
        if (!_closed)
        {
            _ = _connection.Output.Enqueue(
                static (output, state) => FrameWriter.WriteMethod(output, state.Number, state.confirm), (Number, confirm));
        }
    }

    /// <summary>Waits until this channel's earlier publishes are in the log, so a later get, purge or count on the channel sees them (as on RabbitMQ).</summary>
    private Task PublishedSoFarAsync() => _lastAppend.IsCompleted ? Task.CompletedTask : _lastAppend;

    private const ushort PropertiesPublishingReads =
        BasicProperties.HeadersFlag | BasicProperties.UserIdFlag | BasicProperties.ReplyToFlag | BasicProperties.ExpirationFlag;
}
