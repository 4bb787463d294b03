using Gateway.Broker.Topology;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Exchange;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using Gateway.Server.Errors;
using MetaService.Contracts;

namespace Gateway.Server.Channels;

/// <summary>
/// exchange.* and queue.* methods: decoded here, carried out by the broker's <see cref="TopologyService"/>,
/// answered with the -ok method unless no-wait was set. A refusal closes the channel (403, 404, 405,
/// 406) or the connection (503, 530) with RabbitMQ's code and text, naming the method.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>RabbitMQ's "most recently declared queue", used when a later method names the queue "".</summary>
    private string _lastDeclaredQueue = string.Empty;

    private ValueTask? HandleTopologyMethod(AmqpMethodId id, ReadOnlySpan<byte> arguments)
    {
        if (_connection.Topology is not { } topology || _connection.Session is not { } session)
        {
            return null;
        }

        return id switch
        {
            AmqpMethodId.ExchangeDeclare => Run(id, DeclareExchangeAsync(topology, session, ExchangeDeclare.Read(arguments))),
            AmqpMethodId.ExchangeDelete => Run(id, DeleteExchangeAsync(topology, session, ExchangeDelete.Read(arguments))),
            AmqpMethodId.ExchangeBind => Run(id, BindExchangeAsync(topology, session, ExchangeBind.Read(arguments))),
            AmqpMethodId.ExchangeUnbind => Run(id, UnbindExchangeAsync(topology, session, ExchangeUnbind.Read(arguments))),
            AmqpMethodId.QueueDeclare => Run(id, DeclareQueueAsync(topology, session, QueueDeclare.Read(arguments))),
            AmqpMethodId.QueueBind => Run(id, BindQueueAsync(topology, session, QueueBind.Read(arguments))),
            AmqpMethodId.QueueUnbind => Run(id, UnbindQueueAsync(topology, session, QueueUnbind.Read(arguments))),
            AmqpMethodId.QueuePurge => Run(id, PurgeQueueAsync(topology, session, QueuePurge.Read(arguments))),
            AmqpMethodId.QueueDelete => Run(id, DeleteQueueAsync(topology, session, QueueDelete.Read(arguments))),
            _ => null,
        };
    }

    /// <summary>Turns the broker's refusals into AMQP errors that name <paramref name="id"/>.</summary>
    private static async ValueTask Run(AmqpMethodId id, Task operation)
    {
        try
        {
            await operation.ConfigureAwait(false);
        }
        catch (MetadataException ex)
        {
            throw new AmqpException((ReplyCode)ex.ReplyCode, ex.Message, id);
        }
    }

    private async Task DeclareExchangeAsync(TopologyService topology, BrokerSession session, ExchangeDeclare declare)
    {
        var exchange = new ExchangeRecord(
            session.VirtualHost, declare.Exchange, declare.Type, declare.Durable, declare.AutoDelete, declare.Internal, FieldTableJson.ToJson(declare.Arguments));
        await topology.DeclareExchangeAsync(session, exchange, declare.Passive);
        await ReplyAsync(declare.NoWait, new ExchangeDeclareOk());
    }

    private async Task DeleteExchangeAsync(TopologyService topology, BrokerSession session, ExchangeDelete delete)
    {
        await topology.DeleteExchangeAsync(session, delete.Exchange, delete.IfUnused);
        await ReplyAsync(delete.NoWait, new ExchangeDeleteOk());
    }

    private async Task BindExchangeAsync(TopologyService topology, BrokerSession session, ExchangeBind bind)
    {
        await topology.BindAsync(session, new BindingRecord(
            session.VirtualHost, bind.Source, bind.Destination, BindingDestinationType.Exchange, bind.RoutingKey, FieldTableJson.ToJson(bind.Arguments)));
        await ReplyAsync(bind.NoWait, new ExchangeBindOk());
    }

    private async Task UnbindExchangeAsync(TopologyService topology, BrokerSession session, ExchangeUnbind unbind)
    {
        await topology.UnbindAsync(session, new BindingRecord(
            session.VirtualHost, unbind.Source, unbind.Destination, BindingDestinationType.Exchange, unbind.RoutingKey, FieldTableJson.ToJson(unbind.Arguments)));
        await ReplyAsync(unbind.NoWait, new ExchangeUnbindOk());
    }

    private async Task DeclareQueueAsync(TopologyService topology, BrokerSession session, QueueDeclare declare)
    {
        if (declare.Passive && declare.Queue == DirectReplyTo.PseudoQueue)
        {
            // The pseudo-queue of direct reply-to exists for a passive check (clients probe for the feature).
            await ReplyAsync(declare.NoWait, new QueueDeclareOk(DirectReplyTo.PseudoQueue, 0, 0));
            return;
        }

        await PublishedSoFarAsync();   // counts include this channel's earlier publishes
        var queue = new QueueRecord(session.VirtualHost, declare.Queue, declare.Durable, declare.AutoDelete, FieldTableJson.ToJson(declare.Arguments));
        QueueDeclared declared = await topology.DeclareQueueAsync(session, queue, declare.Passive, declare.Exclusive);
        _lastDeclaredQueue = declared.Queue.Name;
        await ReplyAsync(declare.NoWait, new QueueDeclareOk(declared.Queue.Name, ClampCount(declared.MessageCount), (uint)declared.ConsumerCount));
    }

    private async Task BindQueueAsync(TopologyService topology, BrokerSession session, QueueBind bind)
    {
        string queue = QueueName(bind.Queue, AmqpMethodId.QueueBind);
        await topology.BindAsync(session, new BindingRecord(
            session.VirtualHost, bind.Exchange, queue, BindingDestinationType.Queue, RoutingKey(bind.Queue, bind.RoutingKey), FieldTableJson.ToJson(bind.Arguments)));
        await ReplyAsync(bind.NoWait, new QueueBindOk());
    }

    private async Task UnbindQueueAsync(TopologyService topology, BrokerSession session, QueueUnbind unbind)
    {
        string queue = QueueName(unbind.Queue, AmqpMethodId.QueueUnbind);
        await topology.UnbindAsync(session, new BindingRecord(
            session.VirtualHost, unbind.Exchange, queue, BindingDestinationType.Queue, RoutingKey(unbind.Queue, unbind.RoutingKey), FieldTableJson.ToJson(unbind.Arguments)));
        await ReplyAsync(noWait: false, new QueueUnbindOk());
    }

    private async Task PurgeQueueAsync(TopologyService topology, BrokerSession session, QueuePurge purge)
    {
        await PublishedSoFarAsync();   // counts include this channel's earlier publishes
        long purged = await topology.PurgeQueueAsync(session, QueueName(purge.Queue, AmqpMethodId.QueuePurge));
        await ReplyAsync(purge.NoWait, new QueuePurgeOk(ClampCount(purged)));
    }

    private async Task DeleteQueueAsync(TopologyService topology, BrokerSession session, QueueDelete delete)
    {
        await PublishedSoFarAsync();   // counts include this channel's earlier publishes
        long deleted = await topology.DeleteQueueAsync(session, QueueName(delete.Queue, AmqpMethodId.QueueDelete), delete.IfUnused, delete.IfEmpty);
        await ReplyAsync(delete.NoWait, new QueueDeleteOk(ClampCount(deleted)));
    }

    private Task ReplyAsync<TMethod>(bool noWait, TMethod method)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        noWait ? Task.CompletedTask : _connection.Output.SendMethodAsync(Number, method).AsTask();

    /// <summary>rabbit_channel's expand_queue_name_shortcut: "" means the queue most recently declared on this channel.</summary>
    private string QueueName(string name, AmqpMethodId method)
    {
        if (name.Length > 0)
        {
            return name;
        }

        return _lastDeclaredQueue.Length > 0
            ? _lastDeclaredQueue
            : throw new AmqpException(ReplyCode.NotFound, "no previously declared queue", method);
    }

    /// <summary>rabbit_channel's expand_routing_key_shortcut: queue "" and key "" binds with the last declared queue's name as key.</summary>
    private string RoutingKey(string queue, string routingKey) =>
        queue.Length == 0 && routingKey.Length == 0 ? _lastDeclaredQueue : routingKey;

    private static uint ClampCount(long count) => (uint)Math.Clamp(count, 0, uint.MaxValue);
}
