using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Broker.Delays;
using Gateway.Broker.Delivery;
using Gateway.Broker.Policies;
using Gateway.Broker.Queues;
using Gateway.Broker.Routing;
using Gateway.Broker.Traffic;
using Gateway.Log;
using MetaService.Contracts;

namespace Gateway.Broker.Topology;

/// <summary>
/// Exchanges, queues and bindings as a RabbitMQ client manipulates them: permission checks in
/// rabbit_channel's order, the metadata store for the declarations (it owns equivalence, 404s,
/// reserved names and atomicity across gateways), the log for each queue's topic and its counts,
/// and the routing tables publishers read. Refusals are <see cref="MetadataException"/>s carrying
/// RabbitMQ's reply code and text; the server turns them into channel or connection closes.
/// </summary>
/// <remarks>
/// Routing tables are loaded from the store's snapshot at start and then changed in step with this
/// gateway's own successful operations, so a publish after queue.bind-ok routes through the new
/// binding. With a shared (remote) store, changes made through other gateways arrive on the change feed
/// and the vhost's table is rebuilt from a fresh snapshot (TopologyService.Following.cs).
/// </remarks>
public sealed partial class TopologyService
{
    private readonly IMetadataStore _store;
    private readonly IMessageLog _log;
    private readonly ConcurrentDictionary<string, VirtualHostRoutingTable> _routing = new(StringComparer.Ordinal);
    // Every queue this gateway serves, with the record it was declared with (its topic and exclusive
    // owner never change), so per-message paths such as basic.get need no metadata round trip.
    private readonly ConcurrentDictionary<(string VirtualHost, string Queue), KnownQueue> _queues = new();
    private readonly ConcurrentDictionary<DispatchQueue, string> _exclusiveConsumers = new();
    private readonly ConcurrentDictionary<DispatchQueue, QueueRecord> _autoDelete = new();

    private readonly IMessageFormat? _messageFormat;
    private readonly TimeProvider _time;
    private readonly GradedRedelivery? _gradedRedelivery;
    private MetadataFollower? _policyFollower;

    // The controller's consume controls by queue, with a version that only grows (see ApplyConsumeControls).
    private volatile ConsumeControls _consumeControls = new(0, new Dictionary<(string VirtualHost, string Queue), ConsumeControl>());
    private readonly Lock _consumeControlsLock = new();

    /// <param name="messageFormat">The server's view of AMQP properties, for per-message expiration and dead-letter copies; without it (broker-only tests) neither exists.</param>
    /// <param name="time">Clock for message TTL (tests inject one).</param>
    /// <param name="queueWorkFailed">Told when a queue's background work failed: a dead-letter copy not written (the original stays queued), an expiry sweep or an x-expires deletion.</param>
    public TopologyService(
        IMetadataStore store,
        IMessageLog log,
        DeliveryDispatcher dispatcher,
        IMessageFormat? messageFormat = null,
        TimeProvider? time = null,
        Action<string, Exception>? queueWorkFailed = null)
    {
        _store = store;
        _log = log;
        Dispatcher = dispatcher;
        _messageFormat = messageFormat;
        _time = time ?? TimeProvider.System;
        DeadLetters = new DeadLetterPublisher(
            log,
            messageFormat,
            Routing,
            (virtualHost, name, priority) => _queues.TryGetValue((virtualHost, name), out KnownQueue? known) ? (known.TopicFor(priority), known.Dispatch) : null,
            _time,
            queueWorkFailed);
        Delays = new DelayStore(
            log,
            ResolveDelayed,
            _time,
            dropped: (target, error) => queueWorkFailed?.Invoke(DescribeDropped(target), error ?? new DelayedMessageDroppedException(target)),
            failed: queueWorkFailed);
        _gradedRedelivery = messageFormat is null
            ? null
            : new GradedRedelivery(log, messageFormat, DeadLetters, Delays, EnsureDeadLetterQueueAsync, _time);
    }

    /// <summary>
    /// Messages held until a due time (the x-delayed-message exchange; delayed redelivery). Started by
    /// <see cref="StartAsync"/>; the composition root disposes it before the log.
    /// </summary>
    public DelayStore Delays { get; }

    /// <summary>Where rejected and expired messages go (each queue's dead-letter exchange).</summary>
    public DeadLetterPublisher DeadLetters { get; }

    /// <summary>The policies of every vhost, followed from the metadata change feed once started.</summary>
    public PolicyTable Policies { get; } = new();

    /// <summary>The queue's topic and dispatch state, if this gateway serves it (the delay store appends there).</summary>
    public (string Topic, DispatchQueue Dispatch)? FindQueue(string virtualHost, string name) =>
        _queues.TryGetValue((virtualHost, name), out KnownQueue? known) ? (known.Record.Topic, known.Dispatch) : null;

    /// <summary>
    /// A snapshot of every queue this gateway serves, with its log topics (a priority queue has one per
    /// level), for metrics read at scrape time.
    /// </summary>
    public IReadOnlyList<ServedQueue> ServedQueues() =>
        _queues.Select(entry => new ServedQueue(entry.Key.VirtualHost, entry.Key.Queue, entry.Value.Topics(), entry.Value.Dispatch)).ToList();

    public IMessageLog Log => _log;

    /// <summary>
    /// The controller's pauses and consume limits (docs/traffic-control.md), keyed by (vhost, queue); a queue
    /// not in it has none. Put in force on every queue served now and on every queue served later (declared,
    /// recreated, or a dead-letter queue made on demand). Calls are serialised; each gets a higher version, so
    /// a queue registering concurrently ends with the newest state whichever of the two applies last.
    /// </summary>
    public void ApplyConsumeControls(IReadOnlyDictionary<(string VirtualHost, string Queue), ConsumeControl> controls)
    {
        ArgumentNullException.ThrowIfNull(controls);
        lock (_consumeControlsLock)
        {
            var current = new ConsumeControls(_consumeControls.Version + 1, controls);
            _consumeControls = current;
            foreach (var (key, known) in _queues)
            {
                ApplyConsumeControl(current, key, known.Dispatch);
            }
        }
    }

    private static void ApplyConsumeControl(ConsumeControls controls, (string VirtualHost, string Queue) key, DispatchQueue dispatch) =>
        dispatch.ApplyControl(controls.ByQueue.GetValueOrDefault(key) ?? ConsumeControl.None, controls.Version);

    /// <summary>Push delivery for every queue of this gateway (docs/dispatcher.md).</summary>
    public DeliveryDispatcher Dispatcher { get; }

    /// <summary>
    /// Loads every vhost's exchanges, queues and bindings and makes sure every queue has its topic.
    /// With <paramref name="brokerRestarted"/> (this gateway alone owns the metadata: the embedded
    /// store) it first does what a RabbitMQ node does when it boots: transient (non-durable) queues and
    /// exchanges are gone, and so are exclusive queues, whose connections died with the previous run.
    /// </summary>
    /// <param name="followSharedTopology">
    /// The store is shared with other gateways (a remote meta-service): exchanges, queues and bindings they
    /// declare or delete reach this gateway's routing through the change feed.
    /// </param>
    public async Task StartAsync(bool brokerRestarted, CancellationToken cancellationToken = default, bool followSharedTopology = false)
    {
        _followingTopology = followSharedTopology;
        MetadataSnapshot snapshot = await _store.GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
        Policies.Load(snapshot.Policies);
        foreach (VirtualHostRecord vhost in snapshot.VirtualHosts)
        {
            Routing(vhost.Name);
        }

        foreach (ExchangeRecord exchange in snapshot.Exchanges)
        {
            if (brokerRestarted && !exchange.Durable)
            {
                await _store.DeleteExchangeAsync(exchange.VirtualHost, exchange.Name, ifUnused: false, cancellationToken).ConfigureAwait(false);
                continue;
            }

            Routing(exchange.VirtualHost).AddExchange(exchange);
        }

        // The delayed exchanges' pending messages, as the plugin's rabbit_delayed_message recovers its table at boot;
        // transient ones deleted above lose theirs.
        foreach (ExchangeRecord exchange in snapshot.Exchanges.Where(e => e.Type == DelayedMessageExchange.TypeName && brokerRestarted && !e.Durable))
        {
            await Delays.DropAsync(DelayOwner.Exchange(exchange.VirtualHost, exchange.Name), cancellationToken).ConfigureAwait(false);
        }

        foreach (QueueRecord queue in snapshot.Queues)
        {
            if (brokerRestarted && (queue.ExclusiveOwner is not null || !queue.Durable))
            {
                await DeleteQueueStorageAsync(queue, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ServeAsync(queue, cancellationToken).ConfigureAwait(false);
        }

        foreach (BindingRecord binding in snapshot.Bindings)
        {
            VirtualHostRoutingTable table = Routing(binding.VirtualHost);
            try
            {
                table.AddBinding(binding);
            }
            catch (InvalidOperationException)
            {
                // An end of it was transient or exclusive and deleted above.
            }
        }

        // After the routing tables are complete: messages that came due while the gateway was down route at once.
        await Delays.StartAsync(
            snapshot.Exchanges
                .Where(e => e.Type == DelayedMessageExchange.TypeName && !(brokerRestarted && !e.Durable))
                .Select(e => DelayOwner.Exchange(e.VirtualHost, e.Name))
                .Concat(_queues.Keys.Select(q => DelayOwner.Queue(q.VirtualHost, q.Queue))),   // graded redeliveries waiting
            cancellationToken).ConfigureAwait(false);

        // Policies change at run time (rabbitmqctl set_policy's counterpart is the metadata service), so
        // they are followed; so is other gateways' topology when the store is shared.
        StartFollowingTopology();
        _policyFollower = new MetadataFollower(
            _store,
            (latest, _) =>
            {
                Policies.Load(latest.Policies);
                ReapplyPolicies();
                RequestRebuild(latest.VirtualHosts.Select(v => v.Name));
                return ValueTask.CompletedTask;
            },
            (change, _) =>
            {
                if (change.Entity == ChangeEntities.Policy)
                {
                    ApplyPolicyChange(change);
                }
                else if (change.Entity is ChangeEntities.Exchange or ChangeEntities.Queue or ChangeEntities.Binding)
                {
                    RequestRebuild([change.Value["virtualHost"]?.GetValue<string>() ?? ""]);
                }

                return ValueTask.CompletedTask;
            });
        await _policyFollower.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops following policy changes (at shutdown).</summary>
    public async ValueTask StopAsync()
    {
        if (_policyFollower is { } follower)
        {
            await follower.DisposeAsync().ConfigureAwait(false);
        }

        await StopFollowingTopologyAsync().ConfigureAwait(false);
    }

    private void ApplyPolicyChange(MetadataChange change)
    {
        JsonObject value = change.Value;
        string virtualHost = value["virtualHost"]?.GetValue<string>() ?? "";
        string name = value["name"]?.GetValue<string>() ?? "";
        if (change.Operation == ChangeOperation.Delete)
        {
            Policies.Remove(virtualHost, name);
        }
        else
        {
            Policies.Put(new PolicyRecord(
                virtualHost,
                name,
                value["pattern"]?.GetValue<string>() ?? "",
                value["applyTo"]?.GetValue<string>() ?? "all",
                value["priority"]?.GetValue<int>() ?? 0,
                value["definition"] as JsonObject ?? []));
        }

        ReapplyPolicies(virtualHost);
    }

    /// <summary>Every known queue (of <paramref name="virtualHost"/>, or all) takes the policy now in force for it.</summary>
    private void ReapplyPolicies(string? virtualHost = null)
    {
        foreach (KnownQueue known in _queues.Values)
        {
            if ((virtualHost is null || known.Record.VirtualHost == virtualHost) && known.Dispatch.Source is IQueueMessages messages)
            {
                messages.ApplyPolicy(Policies.ForQueue(known.Record.VirtualHost, known.Record.Name, messages.Arguments.Quorum));
            }
        }
    }

    /// <summary>A queue's dead-letter queue for graded redelivery (<c>&lt;queue&gt;.dlq</c>): declared durable when first needed.</summary>
    private async Task<string> EnsureDeadLetterQueueAsync(QueueIdentity queue)
    {
        string name = GradedRedelivery.DeadLetterQueueName(queue.Name);
        if (_queues.ContainsKey((queue.VirtualHost, name)))
        {
            return name;
        }

        using var held = await HoldTopologyAsync(queue.VirtualHost, CancellationToken.None).ConfigureAwait(false);
        QueueRecord stored = await _store.DeclareQueueAsync(new QueueRecord(queue.VirtualHost, name, Durable: true, AutoDelete: false, []), passive: false)
            .ConfigureAwait(false);
        await ServeAsync(stored, CancellationToken.None).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// This gateway serves a stored queue: its log topics exist (a priority queue's levels too), its dispatch
    /// state is registered and publishers route to it. At start, at declare, and for a dead-letter queue.
    /// </summary>
    private async Task<DispatchQueue> ServeAsync(QueueRecord queue, CancellationToken cancellationToken)
    {
        DispatchQueue dispatch = await OpenQueueAsync(queue, cancellationToken).ConfigureAwait(false);
        Routing(queue.VirtualHost).AddQueue(queue.Name);
        return dispatch;
    }

    /// <summary>A stored queue's log topics exist and its dispatch state is registered; routing is the caller's.</summary>
    private async Task<DispatchQueue> OpenQueueAsync(QueueRecord queue, CancellationToken cancellationToken, bool judgesExpiry = true)
    {
        foreach (string topic in TopicsOf(queue))
        {
            await _log.CreateTopicAsync(topic, cancellationToken).ConfigureAwait(false);   // a no-op for an existing topic
        }

        return Register(queue, judgesExpiry);
    }

    /// <summary>The routing table publishers of <paramref name="virtualHost"/> read.</summary>
    public VirtualHostRoutingTable Routing(string virtualHost) => _routing.GetOrAdd(virtualHost, v => new VirtualHostRoutingTable(v));

    public async Task<ExchangeRecord> DeclareExchangeAsync(BrokerSession session, ExchangeRecord exchange, bool passive, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        // rabbit_channel: a passive declare only looks the exchange up; an active one needs configure.
        if (!passive)
        {
            await RequireAsync(session, PermissionKind.Configure, "exchange", exchange.Name, cancellationToken).ConfigureAwait(false);
        }

        ExchangeRecord stored = await _store.DeclareExchangeAsync(exchange with { VirtualHost = session.VirtualHost }, passive, cancellationToken).ConfigureAwait(false);
        Routing(session.VirtualHost).AddExchange(stored);
        return stored;
    }

    public async Task DeleteExchangeAsync(BrokerSession session, string name, bool ifUnused, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        await RequireAsync(session, PermissionKind.Configure, "exchange", name, cancellationToken).ConfigureAwait(false);
        await _store.DeleteExchangeAsync(session.VirtualHost, name, ifUnused, cancellationToken).ConfigureAwait(false);
        Routing(session.VirtualHost).RemoveExchange(name);
        await Delays.DropAsync(DelayOwner.Exchange(session.VirtualHost, name), cancellationToken).ConfigureAwait(false);   // a no-op unless it held delayed messages
    }

    public async Task<QueueDeclared> DeclareQueueAsync(BrokerSession session, QueueRecord queue, bool passive, bool exclusive, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        if (!passive)
        {
            await RequireAsync(session, PermissionKind.Configure, "queue", queue.Name, cancellationToken).ConfigureAwait(false);
        }

        QueueRecord stored = await _store.DeclareQueueAsync(
            queue with { VirtualHost = session.VirtualHost, ExclusiveOwner = exclusive ? session.OwnerId : null }, passive, cancellationToken).ConfigureAwait(false);
        RequireOwnerOrShared(session, stored);
        DispatchQueue dispatch = await ServeAsync(stored, cancellationToken).ConfigureAwait(false);
        Renew(stored.VirtualHost, stored.Name);   // a redeclare (passive too) is a use for x-expires
        if (stored.ExclusiveOwner is not null)
        {
            session.AddExclusiveQueue(stored.Name);
        }

        return new QueueDeclared(stored, dispatch.Source.Ready, dispatch.ConsumerCount);
    }

    /// <summary>queue.delete; returns the messages it held (0 when it did not exist, which RabbitMQ answers with delete-ok).</summary>
    public async Task<long> DeleteQueueAsync(BrokerSession session, string name, bool ifUnused, bool ifEmpty, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        await RequireAsync(session, PermissionKind.Configure, "queue", name, cancellationToken).ConfigureAwait(false);
        QueueRecord? queue = await _store.GetQueueAsync(session.VirtualHost, name, cancellationToken).ConfigureAwait(false);
        if (queue is null)
        {
            return 0;
        }

        RequireOwnerOrShared(session, queue);
        long ready = TopicsOf(queue).Where(_log.TopicExists).Sum(_log.ReadyCount);
        if (ifUnused && _queues.TryGetValue((queue.VirtualHost, queue.Name), out KnownQueue? used) && used.Dispatch.ConsumerCount > 0)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"queue '{name}' in vhost '{session.VirtualHost}' in use");
        }

        if (ifEmpty && ready > 0)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"queue '{name}' in vhost '{session.VirtualHost}' not empty");
        }

        await DeleteQueueStorageAsync(queue, cancellationToken).ConfigureAwait(false);
        session.RemoveExclusiveQueue(name);
        return ready;
    }

    /// <summary>queue.purge: returns how many ready messages it removed.</summary>
    public async Task<long> PurgeQueueAsync(BrokerSession session, string name, CancellationToken cancellationToken = default)
    {
        // rabbit_channel checks read permission for queue.purge.
        await RequireAsync(session, PermissionKind.Read, "queue", name, cancellationToken).ConfigureAwait(false);
        QueueRecord queue = await GetQueueOrDieAsync(session, name, cancellationToken).ConfigureAwait(false);
        RequireOwnerOrShared(session, queue);
        return _queues.TryGetValue((queue.VirtualHost, queue.Name), out KnownQueue? known) && known.Dispatch.Source is IQueueMessages messages && known.Record.Topic == queue.Topic
            ? messages.Purge()
            : TopicsOf(queue).Sum(_log.Purge);
    }

    /// <summary>queue.bind / exchange.bind: write on the destination, read on the source (rabbit_channel's binding_action).</summary>
    public async Task BindAsync(BrokerSession session, BindingRecord binding, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        binding = await CheckBindingAsync(session, binding, cancellationToken).ConfigureAwait(false);
        await _store.BindAsync(binding, cancellationToken).ConfigureAwait(false);
        Routing(session.VirtualHost).AddBinding(binding);
    }

    public async Task UnbindAsync(BrokerSession session, BindingRecord binding, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        binding = await CheckBindingAsync(session, binding, cancellationToken).ConfigureAwait(false);
        await _store.UnbindAsync(binding, cancellationToken).ConfigureAwait(false);
        Routing(session.VirtualHost).RemoveBinding(binding);
    }

    /// <summary>
    /// basic.publish's routing, decided at publish time as RabbitMQ decides it, with its checks in
    /// rabbit_channel's order: write permission on the exchange (403), the exchange exists (404), it
    /// is not internal (403), CC/BCC headers are arrays (406). Returns the destination topics, each
    /// once however many bindings reached its queue.
    /// </summary>
    /// <param name="headers">The message's headers as plain .NET values (see <see cref="VirtualHostRoutingTable.Route"/>), or null.</param>
    /// <param name="priority">The message's priority property (0 when absent): picks the level topic of priority queues.</param>
    /// <param name="bodySize">The body's length, for queues that refuse publishes past x-max-length-bytes.</param>
    /// <param name="judgeFullQueuesLater">
    /// Keep full reject-publish queues among the destinations: a transactional publish reaches its queues
    /// only at tx.commit, and RabbitMQ's queue judges its length then (the caller checks
    /// <see cref="QueueMessages.AcceptsPublish"/> at commit).
    /// </param>
    public async ValueTask<PublishRoute> RoutePublishAsync(
        BrokerSession session,
        string exchange,
        string routingKey,
        IEnumerable<KeyValuePair<string, object?>>? headers,
        byte priority = 0,
        long bodySize = 0,
        bool judgeFullQueuesLater = false,
        CancellationToken cancellationToken = default)
    {
        if (!session.WriteAllowedCached(exchange))
        {
            await RequireAsync(session, PermissionKind.Write, "exchange", exchange, cancellationToken).ConfigureAwait(false);
            session.RememberWriteAllowed(exchange);
        }

        RoutingResult result = Routing(session.VirtualHost).Route(exchange, routingKey, headers, delay: true);
        switch (result.Status)
        {
            case RouteStatus.ExchangeNotFound:
                throw new MetadataException(MetadataException.NotFound, $"no exchange '{exchange}' in vhost '{session.VirtualHost}'");
            case RouteStatus.InvalidRoutingHeader when !result.ExchangeIsInternal:
                throw new MetadataException(MetadataException.PreconditionFailed, result.InvalidHeaderExplanation ?? "invalid message");
        }

        if (result.ExchangeIsInternal)
        {
            throw new MetadataException(MetadataException.AccessRefused, $"cannot publish to internal exchange '{exchange}' in vhost '{session.VirtualHost}'");
        }

        if (result.Queues.Count == 0)
        {
            return new PublishRoute([], result.RemoveBccHeader, []) { DelayMilliseconds = result.DelayMilliseconds };
        }

        var topics = new List<string>(result.Queues.Count);
        var queues = new List<DispatchQueue>(result.Queues.Count);
        List<IQueueMessages>? refusedBy = null;
        foreach (string queue in result.Queues)
        {
            if (_queues.TryGetValue((session.VirtualHost, queue), out KnownQueue? known))
            {
                if (!judgeFullQueuesLater && known.Dispatch.Source is IQueueMessages { } messages && !messages.AcceptsPublish(bodySize))
                {
                    (refusedBy ??= []).Add(messages);
                    continue;
                }

                topics.Add(known.TopicFor(priority));
                queues.Add(known.Dispatch);
            }
        }

        return new PublishRoute(topics, result.RemoveBccHeader, queues, refusedBy) { DelayMilliseconds = result.DelayMilliseconds };
    }

    /// <summary>
    /// Where a due delayed message goes now: through its exchange's bindings of this moment (with the headers of its stored
    /// properties), or to its queue; queues full under x-overflow reject-publish do not take it. Empty when nothing is reached.
    /// </summary>
    private IReadOnlyList<DelayDestination> ResolveDelayed(DelayTarget target, ReadOnlyMemory<byte> storedProperties)
    {
        IEnumerable<string> names = target switch
        {
            ExchangeDelayTarget exchange => Routing(exchange.VirtualHost).Route(
                exchange.Exchange, exchange.RoutingKey, _messageFormat?.RoutingHeaders(storedProperties)) is { Status: RouteStatus.Routed } routed
                    ? routed.Queues
                    : [],
            QueueDelayTarget queue => [queue.Queue],
            _ => [],
        };
        var destinations = new List<DelayDestination>();
        byte? priority = null;   // read from the message once, if a priority queue needs it
        foreach (string name in names)
        {
            if (!_queues.TryGetValue((target.VirtualHost, name), out KnownQueue? known))
            {
                continue;
            }

            // A due message from the delayed exchange is a publish, which a full reject-publish queue refuses (the
            // plugin's publish would be refused too); a graded redelivery returns a message the queue already held,
            // which, like a requeue, no limit refuses.
            if (target is ExchangeDelayTarget && known.Dispatch.Source is IQueueMessages { } messages && !messages.AcceptsPublish())
            {
                continue;
            }

            if (known.Dispatch.Source is PriorityQueueMessages)
            {
                priority ??= _messageFormat?.Priority(new StoredMessage("", 0, 0, 0, 0, storedProperties, default)) ?? 0;
            }

            destinations.Add(new DelayDestination(known.TopicFor(priority ?? 0), known.Dispatch));
        }

        return destinations;
    }

    private static string DescribeDropped(DelayTarget target) => target switch
    {
        ExchangeDelayTarget exchange => $"delayed message for exchange '{exchange.Exchange}' in vhost '{exchange.VirtualHost}'",
        QueueDelayTarget queue => $"delayed message for queue '{queue.Queue}' in vhost '{queue.VirtualHost}'",
        _ => "delayed message",
    };

    /// <summary>
    /// The queue basic.get and basic.consume take from: read permission (403), exists (404), not another
    /// connection's exclusive queue (405), in rabbit_channel's order.
    /// </summary>
    public async Task<DispatchQueue> QueueForConsumingAsync(BrokerSession session, string name, CancellationToken cancellationToken = default)
    {
        await RequireAsync(session, PermissionKind.Read, "queue", name, cancellationToken).ConfigureAwait(false);
        if (!_queues.TryGetValue((session.VirtualHost, name), out KnownQueue? known))
        {
            throw new MetadataException(MetadataException.NotFound, $"no queue '{name}' in vhost '{session.VirtualHost}'");
        }

        RequireOwnerOrShared(session, known.Record);
        known.Lease?.Renew();   // basic.get and basic.consume are uses for x-expires
        return known.Dispatch;
    }

    /// <summary>
    /// basic.consume's exclusive flag: refused (403 "in exclusive use") if the queue has consumers, and
    /// afterwards any other consumer is refused until <see cref="ReleaseExclusiveConsumer"/>.
    /// </summary>
    public void CheckConsumer(BrokerSession session, DispatchQueue queue, string queueName, bool exclusive, string consumerTag)
    {
        string refusal = $"queue '{queueName}' in vhost '{session.VirtualHost}' in exclusive use";
        if (_exclusiveConsumers.ContainsKey(queue) || (exclusive && queue.ConsumerCount > 0))
        {
            throw new MetadataException(MetadataException.AccessRefused, refusal);
        }

        if (exclusive && !_exclusiveConsumers.TryAdd(queue, consumerTag))
        {
            throw new MetadataException(MetadataException.AccessRefused, refusal);
        }
    }

    /// <summary>The exclusive consumer <paramref name="consumerTag"/> of <paramref name="queue"/> is gone.</summary>
    public void ReleaseExclusiveConsumer(DispatchQueue queue, string consumerTag) =>
        _exclusiveConsumers.TryRemove(new KeyValuePair<DispatchQueue, string>(queue, consumerTag));

    /// <summary>
    /// A consumer of <paramref name="queue"/> went away (basic.cancel, channel or connection closed): an
    /// auto-delete queue is deleted once its last consumer is gone, as in RabbitMQ (a queue that never
    /// had a consumer stays).
    /// </summary>
    public async Task ConsumerRemovedAsync(DispatchQueue queue, CancellationToken cancellationToken = default)
    {
        if (queue.ConsumerCount == 0 && queue.Source is IQueueMessages { Queue: var identity }
            && _queues.TryGetValue((identity.VirtualHost, identity.Name), out KnownQueue? known) && known.Dispatch == queue)
        {
            known.Lease?.Renew();   // x-expires counts from the last consumer leaving
        }

        if (queue.ConsumerCount == 0 && !queue.IsDeleted && _autoDelete.TryRemove(queue, out QueueRecord? record))
        {
            using var held = await HoldTopologyAsync(record.VirtualHost, cancellationToken).ConfigureAwait(false);

            // While waiting for the hold a rebuild may have replaced the queue (recreated elsewhere): only this one goes.
            if (queue.IsDeleted || !_queues.TryGetValue((record.VirtualHost, record.Name), out KnownQueue? current) || current.Dispatch != queue)
            {
                return;
            }

            await DeleteQueueStorageAsync(record, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The connection closed: its exclusive queues go, as in RabbitMQ.</summary>
    public async Task SessionClosedAsync(BrokerSession session, CancellationToken cancellationToken = default)
    {
        using var held = await HoldTopologyAsync(session.VirtualHost, cancellationToken).ConfigureAwait(false);
        foreach (string name in session.TakeExclusiveQueues())
        {
            QueueRecord? queue = await _store.GetQueueAsync(session.VirtualHost, name, cancellationToken).ConfigureAwait(false);
            if (queue is not null && queue.ExclusiveOwner == session.OwnerId)
            {
                await DeleteQueueStorageAsync(queue, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<BindingRecord> CheckBindingAsync(BrokerSession session, BindingRecord binding, CancellationToken cancellationToken)
    {
        binding = binding with { VirtualHost = session.VirtualHost };
        string destinationKind = binding.DestinationType == BindingDestinationType.Queue ? "queue" : "exchange";
        await RequireAsync(session, PermissionKind.Write, destinationKind, binding.Destination, cancellationToken).ConfigureAwait(false);
        await RequireAsync(session, PermissionKind.Read, "exchange", binding.Source, cancellationToken).ConfigureAwait(false);
        if (binding.Source.Length == 0 || (binding.DestinationType == BindingDestinationType.Exchange && binding.Destination.Length == 0))
        {
            throw new MetadataException(MetadataException.AccessRefused, $"operation not permitted on the default exchange");
        }

        if (binding.DestinationType == BindingDestinationType.Queue)
        {
            QueueRecord queue = await GetQueueOrDieAsync(session, binding.Destination, cancellationToken).ConfigureAwait(false);
            RequireOwnerOrShared(session, queue);
        }

        return binding;
    }

    private async Task<QueueRecord> GetQueueOrDieAsync(BrokerSession session, string name, CancellationToken cancellationToken) =>
        await _store.GetQueueAsync(session.VirtualHost, name, cancellationToken).ConfigureAwait(false)
            ?? throw new MetadataException(MetadataException.NotFound, $"no queue '{name}' in vhost '{session.VirtualHost}'");

    private async Task DeleteQueueStorageAsync(QueueRecord queue, CancellationToken cancellationToken)
    {
        // Consumers are cancelled (basic.cancel to those that asked for it) before the topic goes.
        if (_queues.TryGetValue((queue.VirtualHost, queue.Name), out KnownQueue? known))
        {
            known.Dispatch.Delete();
        }

        await _store.DeleteQueueAsync(queue.VirtualHost, queue.Name, cancellationToken).ConfigureAwait(false);
        await DropQueueAsync(queue, cancellationToken).ConfigureAwait(false);
        Routing(queue.VirtualHost).RemoveQueue(queue.Name);
    }

    /// <summary>This gateway stops serving a queue that is gone from the store: consumers cancelled, topics, graded redeliveries and timers gone.</summary>
    private async Task DropQueueAsync(QueueRecord queue, CancellationToken cancellationToken)
    {
        if (_queues.TryGetValue((queue.VirtualHost, queue.Name), out KnownQueue? known))
        {
            known.Dispatch.Delete();   // a no-op when already deleted
        }

        foreach (string topic in TopicsOf(queue))
        {
            if (_log.TopicExists(topic))
            {
                await _log.DeleteTopicAsync(topic, cancellationToken).ConfigureAwait(false);
            }
        }

        await Delays.DropAsync(DelayOwner.Queue(queue.VirtualHost, queue.Name), cancellationToken).ConfigureAwait(false);   // its graded redeliveries
        if (_queues.TryRemove((queue.VirtualHost, queue.Name), out KnownQueue? removed))
        {
            removed.StopTimers();
            _exclusiveConsumers.TryRemove(removed.Dispatch, out _);
            _autoDelete.TryRemove(removed.Dispatch, out _);
        }
    }

    /// <summary>
    /// Every log topic of <paramref name="queue"/>: its record's topic, and for a priority queue one more per
    /// level above 0 (<see cref="PriorityQueueMessages.LevelTopics"/>). A function of the record alone, so a
    /// queue's storage can be created, counted and deleted before and after it is registered.
    /// </summary>
    private static IReadOnlyList<string> TopicsOf(QueueRecord queue) =>
        QueueArguments.From(queue.Arguments).MaxPriority is { } maxPriority
            ? PriorityQueueMessages.LevelTopics(queue.Topic, maxPriority)
            : [queue.Topic];

    /// <summary>The queue's dispatch state over its topic; one per queue, replaced if the queue was recreated on a new topic.</summary>
    /// <param name="judgesExpiry">
    /// This gateway decides the queue's x-expires and auto-delete: it was declared through it (or the store is
    /// its own). A queue served only because another gateway declared it is left to that gateway, which sees
    /// the consumers that keep it in use; this one would count only its own and delete a queue in use there.
    /// </param>
    private DispatchQueue Register(QueueRecord queue, bool judgesExpiry = true)
    {
        var key = (queue.VirtualHost, queue.Name);
        while (true)
        {
            if (_queues.TryGetValue(key, out KnownQueue? existing) && existing.Record.Topic == queue.Topic)
            {
                return existing.Dispatch;
            }

            var arguments = QueueArguments.From(queue.Arguments);
            var identity = new QueueIdentity(queue.VirtualHost, queue.Name);
            IQueueMessages messages = arguments.MaxPriority is null
                ? new QueueMessages(_log, queue.Topic, identity, arguments, _messageFormat, DeadLetters, _time, _gradedRedelivery)
                : new PriorityQueueMessages(_log, queue.Topic, identity, arguments, _messageFormat, DeadLetters, _time, _gradedRedelivery);
            messages.ApplyPolicy(Policies.ForQueue(queue.VirtualHost, queue.Name, arguments.Quorum));
            DispatchQueue dispatch = Dispatcher.CreateQueue(queue.Name, messages);
            dispatch.SingleActiveConsumer = arguments.SingleActiveConsumer;
            dispatch.ConsumerTimeout = arguments.ConsumerTimeout;
            QueueLease? lease = judgesExpiry && arguments.Expires is { } expires
                ? new QueueLease(expires, _time, () => dispatch.ConsumerCount > 0, () => _ = ExpireAsync(queue))
                : null;
            var created = new KnownQueue(queue, dispatch, lease);
            if (existing is null ? _queues.TryAdd(key, created) : _queues.TryUpdate(key, created, existing))
            {
                // Read after the queue is in _queues: a concurrent ApplyConsumeControls either sees the queue or
                // wrote its state before this read (the version keeps an older state from winning).
                ApplyConsumeControl(_consumeControls, key, dispatch);

                // Replaced (the queue was recreated on a new topic): its timers must not act on the new one.
                existing?.StopTimers();

                if (queue.AutoDelete && judgesExpiry)
                {
                    _autoDelete[created.Dispatch] = queue;
                }

                return created.Dispatch;
            }
        }
    }

    private async Task RequireAsync(BrokerSession session, PermissionKind kind, string resourceKind, string name, CancellationToken cancellationToken)
    {
        PermissionRecord? permission = await session.PermissionAsync(_store, cancellationToken).ConfigureAwait(false);
        if (!PermissionRules.IsAllowed(permission, kind, name))
        {
            throw new MetadataException(MetadataException.AccessRefused, PermissionRules.RefusalText(resourceKind, name, session.VirtualHost, session.User));
        }
    }

    /// <summary>rabbit_amqqueue:check_exclusive_access: another connection's exclusive queue is locked (405).</summary>
    private static void RequireOwnerOrShared(BrokerSession session, QueueRecord queue)
    {
        if (queue.ExclusiveOwner is not null && queue.ExclusiveOwner != session.OwnerId)
        {
            throw new MetadataException(
                MetadataException.ResourceLocked,
                $"cannot obtain exclusive access to locked queue '{queue.Name}' in vhost '{queue.VirtualHost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.");
        }
    }

    private void Renew(string virtualHost, string name)
    {
        if (_queues.TryGetValue((virtualHost, name), out KnownQueue? known))
        {
            known.Lease?.Renew();
        }
    }

    /// <summary>x-expires ran out: the queue goes as if deleted, its consumers (none) and messages with it.</summary>
    private async Task ExpireAsync(QueueRecord queue)
    {
        try
        {
            // Only the queue this lease was made for: one recreated under the same name meanwhile has its own.
            using var held = await HoldTopologyAsync(queue.VirtualHost, CancellationToken.None).ConfigureAwait(false);
            if (!_queues.TryGetValue((queue.VirtualHost, queue.Name), out KnownQueue? known) || known.Record.Topic != queue.Topic)
            {
                return;
            }

            await DeleteQueueStorageAsync(queue, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            DeadLetters.ReportFailure(queue.Name, ex);
        }
    }

    private sealed record ConsumeControls(long Version, IReadOnlyDictionary<(string VirtualHost, string Queue), ConsumeControl> ByQueue);

    /// <summary>A queue as this gateway serves it: its declared record and its dispatch state over the record's topic.</summary>
    private sealed record KnownQueue(QueueRecord Record, DispatchQueue Dispatch, QueueLease? Lease)
    {
        /// <summary>The topic a message with <paramref name="priority"/> goes to: the queue's one topic, or a priority queue's level topic.</summary>
        public string TopicFor(byte priority) =>
            Dispatch.Source is PriorityQueueMessages priorities ? priorities.TopicFor(priority) : Record.Topic;

        /// <summary>Every topic holding the queue's messages: the one topic, or each priority level's.</summary>
        public IReadOnlyList<string> Topics() =>
            Dispatch.Source is PriorityQueueMessages priorities ? PriorityQueueMessages.LevelTopics(Record.Topic, priorities.MaxPriority) : [Record.Topic];

        /// <summary>The queue is gone or replaced: its message-expiry timer and its x-expires lease stop.</summary>
        public void StopTimers()
        {
            (Dispatch.Source as IDisposable)?.Dispose();
            Lease?.Dispose();
        }
    }
}
