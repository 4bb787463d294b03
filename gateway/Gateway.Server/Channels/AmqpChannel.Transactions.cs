using Gateway.Broker.Delivery;
using Gateway.Broker.Queues;
using Gateway.Broker.Topology;
using Gateway.Log;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Tx;
using Gateway.Protocol.Spec;
using Gateway.Server.Errors;
using Gateway.Server.Logging;
using Gateway.Server.Publishing;

namespace Gateway.Server.Channels;

/// <summary>
/// The tx class, as rabbit_channel implements it. After tx.select a publish is checked and routed when it
/// arrives (errors such as 404 close the channel at once) but held; acks, nacks and rejects are checked
/// (an unknown tag is a 406 at once) and held too. tx.commit appends every held publish to the log as one
/// atomic batch (all or none survives a crash: <see cref="IMessageLog.AppendBatchAsync"/>), durable before
/// anything else happens, then applies the held acknowledgements, returns unroutable mandatory messages, and
/// answers commit-ok. tx.rollback and closing the channel discard both. See docs/queue-features.md, Transactions.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>
    /// Message bytes (properties and body) one transaction may hold before tx.commit. RabbitMQ holds a
    /// transaction in memory with no limit of its own (its memory alarm blocks publishers); the gateway
    /// refuses a larger one with 406 rather than let one channel grow without bound (COMPATIBILITY.md).
    /// </summary>
    internal const long MaxTransactionBytes = 256L * 1024 * 1024;

    private Transaction? _transaction;   // set by tx.select, for the channel's life

    private ValueTask SelectTransactions(TopologyService topology)
    {
        if (_confirms is not null)
        {
            throw new AmqpException(ReplyCode.PreconditionFailed, "cannot switch from confirm to tx mode", AmqpMethodId.TxSelect);
        }

        _transaction ??= new Transaction();
        Delivery(topology).SelectTransactions();
        return _connection.Output.SendMethodAsync(Number, new TxSelectOk());
    }

    private Transaction CurrentTransaction(AmqpMethodId method) =>
        _transaction ?? throw new AmqpException(ReplyCode.PreconditionFailed, "channel is not transactional", method);

    private ValueTask RollbackTransaction()
    {
        CurrentTransaction(AmqpMethodId.TxRollback).Clear();
        _delivery?.RollbackSettlements();
        return _connection.Output.SendMethodAsync(Number, new TxRollbackOk());
    }

    /// <summary>A publish on a transactional channel, validated and routed: held until commit.</summary>
    private void HoldPublish(Transaction transaction, BasicPublish publish, byte[] properties, byte[] envelope, byte[] body, PublishRoute route, bool expires)
    {
        long bytes = envelope.Length + body.Length;
        if (transaction.HeldBytes + bytes > MaxTransactionBytes)
        {
            throw new AmqpException(
                ReplyCode.PreconditionFailed,
                $"transaction holds more than {MaxTransactionBytes} bytes of messages; commit smaller transactions",
                AmqpMethodId.BasicPublish);
        }

        transaction.Hold(new HeldPublish(publish, properties, envelope, body, route, expires), bytes);
    }

    private async Task CommitAsync(TopologyService topology)
    {
        Transaction transaction = CurrentTransaction(AmqpMethodId.TxCommit);
        List<HeldPublish> held = transaction.TakePublishes();
        long now = _connection.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var messages = new List<LogMessage>(held.Count);
        var woken = new List<(IReadOnlyList<DispatchQueue> Queues, bool Expires)>(held.Count);
        var returns = new List<HeldPublish>();
        var acceptedPerQueue = new Dictionary<IQueueMessages, (int Count, long Bytes)>();
        bool refused = false;
        foreach (HeldPublish publish in held)
        {
            PublishRoute route = publish.Route;
            if (route.Topics.Count == 0)
            {
                if (publish.Method.Exchange.Length == 0 && _connection.DirectReplies.Find(publish.Method.RoutingKey) is { } requester
                    && requester.DeliverReply(publish.Method.RoutingKey, publish.Properties, publish.Body))
                {
                    continue;
                }

                if (publish.Method.Mandatory)
                {
                    returns.Add(publish);   // rabbit_channel returns it when it delivers, at commit
                }

                continue;
            }

            // The queues judge the message now, as RabbitMQ's queues receive a transaction's messages at commit.
            var topics = new List<string>(route.Topics.Count);
            var queues = new List<DispatchQueue>(route.Topics.Count);
            for (int i = 0; i < route.Topics.Count; i++)
            {
                DispatchQueue queue = route.Queues[i];
                if (queue.IsDeleted)
                {
                    continue;   // deleted since the publish: that queue no longer gets it
                }

                if (queue.Messages is { } full
                    && acceptedPerQueue.GetValueOrDefault(full) is var accepted
                    && !full.AcceptsPublish(publish.Body.Length, accepted.Count, accepted.Bytes))
                {
                    refused = true;
                    if (full.Arguments.Overflow == QueueOverflow.RejectPublishDeadLetter)
                    {
                        topology.DeadLetters.DeadLetterRefused(full.Queue, full.Arguments, publish.Envelope, publish.Body);
                    }

                    continue;
                }

                if (queue.Messages is { } counted)
                {
                    var (count, bytes) = acceptedPerQueue.GetValueOrDefault(counted);
                    acceptedPerQueue[counted] = (count + 1, bytes + publish.Body.Length);
                }

                topics.Add(route.Topics[i]);
                queues.Add(queue);
            }

            if (topics.Count > 0)
            {
                messages.Add(new LogMessage(publish.Envelope, publish.Body, now, topics, StoredEnvelope.RoutingKeyHash(publish.Method.RoutingKey)));
                woken.Add((queues, publish.Expires));
            }
        }

        await AppendCommittedAsync(topology, messages);
        MessageCounters.Published(messages.Count);
        foreach ((IReadOnlyList<DispatchQueue> queues, bool expires) in woken)
        {
            foreach (DispatchQueue queue in queues)
            {
                queue.NotifyMessagesAppended(expires);   // readable now: wake delivery (and the queue's expiry timer)
            }
        }

        // Only once the publishes are durable: rabbit_channel applies a transaction's acks after its deliveries.
        _delivery?.CommitSettlements();
        foreach (HeldPublish publish in returns)
        {
            await _connection.Output.SendMethodWithContentAsync(
                Number,
                new BasicReturn((ushort)ReplyCode.NoRoute, "NO_ROUTE", publish.Method.Exchange, publish.Method.RoutingKey),
                publish.Properties,
                publish.Body,
                _connection.FrameMax);
        }

        if (refused)
        {
            // A queue refused one of the messages: RabbitMQ confirms a transaction's deliveries internally and
            // fails the commit when one is rejected (rabbit_channel:complete_tx, "partial tx completion"),
            // after the rest and the acks took effect.
            throw new AmqpException(ReplyCode.PreconditionFailed, "partial tx completion", AmqpMethodId.TxCommit);
        }

        await _connection.Output.SendMethodAsync(Number, new TxCommitOk());
    }

    /// <summary>
    /// Appends the committed messages as one atomic batch. A destination deleted between the check and the
    /// append makes the log refuse the batch before writing anything: it is dropped from the batch and the
    /// batch tried again. A write failure stores none of them and closes the connection (541), so the held
    /// acks are not applied: their deliveries are requeued with the channel.
    /// </summary>
    private async Task AppendCommittedAsync(TopologyService topology, List<LogMessage> messages)
    {
        for (int attempt = 0; messages.Count > 0; attempt++)
        {
            try
            {
                await topology.Log.AppendBatchAsync(messages);
                return;
            }
            catch (ArgumentException) when (attempt < 3)
            {
                for (int i = messages.Count - 1; i >= 0; i--)
                {
                    string[] remaining = [.. messages[i].Topics.Where(topology.Log.TopicExists)];
                    if (remaining.Length == 0)
                    {
                        messages.RemoveAt(i);
                    }
                    else if (remaining.Length != messages[i].Topics.Count)
                    {
                        messages[i] = messages[i] with { Topics = remaining };
                    }
                }
            }
            catch (Exception ex) when (ex is MessageLogWriteException or ObjectDisposedException or ArgumentException)
            {
                AmqpConnectionLog.CommitNotStored(_connection.Logger, _connection.Id, Number, messages.Count, ex);
                throw new AmqpException(
                    ReplyCode.InternalError, "tx.commit failed: the transaction's messages could not be stored, none was", AmqpMethodId.TxCommit);
            }
        }
    }

    /// <summary>A transactional publish held until tx.commit: what the log and a basic.return need.</summary>
    private sealed record HeldPublish(BasicPublish Method, byte[] Properties, byte[] Envelope, byte[] Body, PublishRoute Route, bool Expires);

    /// <summary>The publishes of the open transaction, in arrival order, and their bytes.</summary>
    private sealed class Transaction
    {
        private List<HeldPublish> _publishes = [];

        public long HeldBytes { get; private set; }

        public void Hold(HeldPublish publish, long bytes)
        {
            _publishes.Add(publish);
            HeldBytes += bytes;
        }

        public List<HeldPublish> TakePublishes()
        {
            List<HeldPublish> taken = _publishes;
            Clear();
            return taken;
        }

        public void Clear()
        {
            _publishes = [];
            HeldBytes = 0;
        }
    }
}
