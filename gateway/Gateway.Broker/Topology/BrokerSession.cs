using System.Collections.Concurrent;
using Gateway.Broker.Delivery;
using Gateway.Broker.Queues;
using MetaService.Contracts;

namespace Gateway.Broker.Topology;

/// <summary>
/// Who is asking: one AMQP connection's user and vhost. Exclusive queues are owned by
/// <see cref="OwnerId"/> and die with the session (RabbitMQ deletes them when their connection closes).
/// </summary>
public sealed class BrokerSession(string ownerId, string user, string virtualHost)
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _exclusiveQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _writableExchanges = new(StringComparer.Ordinal);
    private Task<PermissionRecord?>? _permission;

    /// <summary>Unique among the live sessions of every gateway sharing the metadata store.</summary>
    public string OwnerId { get; } = ownerId;

    public string User { get; } = user;

    public string VirtualHost { get; } = virtualHost;

    /// <summary>The user's permissions in the vhost, read once per session (RabbitMQ caches them per channel).</summary>
    internal Task<PermissionRecord?> PermissionAsync(IMetadataStore store, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _permission ??= store.GetPermissionAsync(User, VirtualHost, cancellationToken);
        }
    }

    /// <summary>
    /// Publishes check write permission on every message; like rabbit_channel's permission cache, a
    /// granted exchange is remembered for the session (permissions are read once per session anyway).
    /// </summary>
    internal bool WriteAllowedCached(string exchange) => _writableExchanges.ContainsKey(exchange);

    internal void RememberWriteAllowed(string exchange)
    {
        // Bounded like RabbitMQ's cache (it keeps the last 12): a publisher cycling through exchange
        // names must not grow this without limit.
        if (_writableExchanges.Count < 64)
        {
            _writableExchanges.TryAdd(exchange, true);
        }
    }

    internal void AddExclusiveQueue(string name)
    {
        lock (_lock)
        {
            _exclusiveQueues.Add(name);
        }
    }

    internal void RemoveExclusiveQueue(string name)
    {
        lock (_lock)
        {
            _exclusiveQueues.Remove(name);
        }
    }

    internal string[] TakeExclusiveQueues()
    {
        lock (_lock)
        {
            string[] queues = [.. _exclusiveQueues];
            _exclusiveQueues.Clear();
            return queues;
        }
    }
}

/// <summary>
/// Where a published message goes: its destination topics (none: unroutable, unless <see cref="RefusedBy"/>
/// names queues), whether the BCC header must be removed first, the queues to wake once the append
/// completed, and the queues that were routed to but refused it because they are full (x-overflow
/// reject-publish or reject-publish-dlx): the publisher gets basic.nack then, as from RabbitMQ.
/// </summary>
public sealed record PublishRoute(
    IReadOnlyList<string> Topics, bool RemoveBccHeader, IReadOnlyList<DispatchQueue> Queues, IReadOnlyList<IQueueMessages>? RefusedBy = null)
{
    /// <summary>Whether any queue refused the message (a confirming publisher gets a nack).</summary>
    public bool Refused => RefusedBy is { Count: > 0 };

    /// <summary>
    /// Published to an x-delayed-message exchange with a positive x-delay: schedule it (<see cref="TopologyService.Delays"/>)
    /// to be routed through that exchange after this many milliseconds. <see cref="Topics"/> is what its alternate exchange reached now.
    /// </summary>
    public long? DelayMilliseconds { get; init; }
}

/// <summary>queue.declare's answer.</summary>
/// <param name="Queue">The stored queue (its name is server-generated when an empty name was declared).</param>
/// <param name="MessageCount">Messages ready for delivery.</param>
/// <param name="ConsumerCount">Active consumers.</param>
public readonly record struct QueueDeclared(QueueRecord Queue, long MessageCount, int ConsumerCount);
