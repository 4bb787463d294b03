using System.Collections.Concurrent;
using System.Threading.Channels;
using Gateway.Broker.Routing;
using MetaService.Contracts;

namespace Gateway.Broker.Topology;

/// <summary>
/// Several gateways share one meta-service: an exchange, queue or binding declared or deleted through one of
/// them must reach the others' routing, as a RabbitMQ cluster's nodes share their routing tables. The change
/// feed says which vhost changed; the vhost's routing table is then rebuilt from a fresh snapshot and swapped
/// in. The feed also echoes this gateway's own changes, and applying changes one by one would let an old echo
/// undo a newer local operation (bind, then unbind, then the bind's echo); rebuilding from the snapshot always
/// converges on the store's truth instead. A local operation holds its vhost from the store call to its routing
/// update, and a rebuild holds it from the snapshot read to the swap, so no local update can land in a table
/// that is being replaced. With an embedded store (one gateway) nothing is followed and nothing is held.
/// </summary>
public sealed partial class TopologyService
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _topologyGates = new(StringComparer.Ordinal);
    private readonly Channel<string> _rebuildRequests = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopFollowing = new();
    private bool _followingTopology;
    private Task? _rebuilder;
    private long _topologyRebuilds;

    private static readonly TimeSpan RebuildRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Rebuilds done after changes from the feed (tests wait on it).</summary>
    public long TopologyRebuilds => Interlocked.Read(ref _topologyRebuilds);

    private void StartFollowingTopology()
    {
        if (_followingTopology)
        {
            _rebuilder = Task.Run(RebuildLoopAsync);
        }
    }

    private async ValueTask StopFollowingTopologyAsync()
    {
        _rebuildRequests.Writer.TryComplete();
        await _stopFollowing.CancelAsync().ConfigureAwait(false);
        if (_rebuilder is { } rebuilder)
        {
            await rebuilder.ConfigureAwait(false);
        }
    }

    /// <summary>The feed reported changes in these vhosts; their tables are rebuilt (coalesced, in the background).</summary>
    private void RequestRebuild(IEnumerable<string> virtualHosts)
    {
        if (!_followingTopology)
        {
            return;
        }

        foreach (string virtualHost in virtualHosts)
        {
            _rebuildRequests.Writer.TryWrite(virtualHost);
        }
    }

    /// <summary>Holds the vhost's topology against a rebuild; a no-op unless the topology is followed.</summary>
    private async ValueTask<TopologyHold> HoldTopologyAsync(string virtualHost, CancellationToken cancellationToken)
    {
        if (!_followingTopology)
        {
            return default;
        }

        SemaphoreSlim gate = _topologyGates.GetOrAdd(virtualHost, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new TopologyHold(gate);
    }

    private async Task RebuildLoopAsync()
    {
        var pending = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (await _rebuildRequests.Reader.WaitToReadAsync(_stopFollowing.Token).ConfigureAwait(false))
            {
                // A burst of changes (a definitions import, an application declaring its topology) is one rebuild per vhost.
                while (_rebuildRequests.Reader.TryRead(out string? virtualHost))
                {
                    pending.Add(virtualHost);
                }

                foreach (string virtualHost in pending)
                {
                    try
                    {
                        await RebuildAsync(virtualHost, _stopFollowing.Token).ConfigureAwait(false);
                        Interlocked.Increment(ref _topologyRebuilds);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The store is unreachable: the table stays as it is (publishes keep routing) and the rebuild is
                        // asked again shortly, since no further change may come to ask for it.
                        DeadLetters.ReportFailure($"topology of vhost '{virtualHost}'", ex);
                        _ = RetryRebuildAsync(virtualHost);
                    }
                }

                pending.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopFollowing.IsCancellationRequested)
        {
        }
    }

    private async Task RetryRebuildAsync(string virtualHost)
    {
        try
        {
            await Task.Delay(RebuildRetryDelay, _stopFollowing.Token).ConfigureAwait(false);
            _rebuildRequests.Writer.TryWrite(virtualHost);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Makes the vhost's routing and served queues match the store: queues declared elsewhere are served (their
    /// topics created here), queues deleted elsewhere stop being served here (consumers cancelled, as RabbitMQ
    /// does when another node deletes a queue), and the exchanges and bindings are the store's.
    /// </summary>
    private async Task RebuildAsync(string virtualHost, CancellationToken cancellationToken)
    {
        using var held = await HoldTopologyAsync(virtualHost, cancellationToken).ConfigureAwait(false);
        MetadataSnapshot snapshot = await _store.GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (!snapshot.VirtualHosts.Any(v => v.Name == virtualHost))
        {
            return;   // the vhost went; its connections are closed by the vhost deletion itself
        }

        var table = new VirtualHostRoutingTable(virtualHost);
        foreach (ExchangeRecord exchange in snapshot.Exchanges.Where(e => e.VirtualHost == virtualHost))
        {
            table.AddExchange(exchange);
        }

        var stored = snapshot.Queues.Where(q => q.VirtualHost == virtualHost).ToDictionary(q => q.Name, StringComparer.Ordinal);
        foreach (KnownQueue known in _queues.Values.Where(k => k.Record.VirtualHost == virtualHost).ToList())
        {
            if (!stored.TryGetValue(known.Record.Name, out QueueRecord? now) || now.Topic != known.Record.Topic)
            {
                await DropQueueAsync(known.Record, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (QueueRecord queue in stored.Values)
        {
            // Another connection's exclusive queue is that connection's gateway's alone (its log holds the messages).
            if (queue.ExclusiveOwner is not null && !_queues.ContainsKey((virtualHost, queue.Name)))
            {
                continue;
            }

            // Served already (its topics exist): only the routing table is new. Otherwise x-expires and auto-delete
            // stay with the gateway the queue was declared through (Register).
            if (!(_queues.TryGetValue((virtualHost, queue.Name), out KnownQueue? served) && served.Record.Topic == queue.Topic))
            {
                await OpenQueueAsync(queue, cancellationToken, judgesExpiry: false).ConfigureAwait(false);
            }

            table.AddQueue(queue.Name);
        }

        foreach (BindingRecord binding in snapshot.Bindings.Where(b => b.VirtualHost == virtualHost))
        {
            try
            {
                table.AddBinding(binding);
            }
            catch (InvalidOperationException)
            {
                // Its destination is another gateway's exclusive queue, left out above.
            }
        }

        _routing[virtualHost] = table;
    }

    private readonly struct TopologyHold(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
