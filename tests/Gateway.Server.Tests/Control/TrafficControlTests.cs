using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Controller.Contracts;
using Gateway.Server.Control;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TestSupport;

namespace Gateway.Server.Tests.Control;

/// <summary>
/// The controller's desired state enforced by a real gateway (docs/traffic-control.md), driven through
/// ITrafficControl as the control agent drives it, observed with RabbitMQ.Client.
/// </summary>
public sealed class TrafficControlTests : GatewayTest
{
    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task A_consumer_paused_mid_stream_gets_nothing_until_resumed_then_everything_once_in_order()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var publisher = await connection.CreateChannelAsync(Confirms);
        await publisher.QueueDeclareAsync("mid-stream", durable: true, exclusive: false, autoDelete: false);
        await PublishNumbersAsync(publisher, "", "mid-stream", 0, 200);

        await using var consuming = await connection.CreateChannelAsync();
        var received = await Collector.StartAsync(consuming, "mid-stream", prefetch: 10, onReceived: count =>
        {
            if (count == 50)
            {
                Gateway.Traffic.Apply(State(pauses: [Pause("mid-stream")]));   // on the client's dispatch thread: mid-stream indeed
            }
        });

        await GatewayFixture.WaitUntilAsync(() => received.Count >= 50);
        await Task.Delay(500);   // deliveries already on the wire when the pause came (at most the prefetch) land
        int atPause = received.Count;
        await Task.Delay(1000);
        Assert.Equal(atPause, received.Count);
        Assert.InRange(atPause, 50, 61);

        Gateway.Traffic.Apply(State());
        await GatewayFixture.WaitUntilAsync(() => received.Count >= 200);
        await Task.Delay(200);
        Assert.Equal(Enumerable.Range(0, 200), received.Numbers);
        Assert.DoesNotContain(true, received.Redelivered);
    }

    [Fact]
    public async Task A_pause_scoped_to_a_connection_name_leaves_the_other_consumer_flowing()
    {
        var pausedFactory = Gateway.ClientFactory();
        pausedFactory.ClientProvidedName = "nightly-report";
        await using var pausedConnection = await pausedFactory.CreateConnectionAsync();
        await using var flowingConnection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var paused = await pausedConnection.CreateChannelAsync();
        await using var flowing = await flowingConnection.CreateChannelAsync(Confirms);
        await flowing.QueueDeclareAsync("shared", durable: true, exclusive: false, autoDelete: false);

        Gateway.Traffic.Apply(State(pauses: [Pause("shared", connectionName: "nightly-report")]));
        var pausedReceived = await Collector.StartAsync(paused, "shared");
        var flowingReceived = await Collector.StartAsync(flowing, "shared");
        await PublishNumbersAsync(flowing, "", "shared", 0, 100);

        await GatewayFixture.WaitUntilAsync(() => flowingReceived.Count >= 100);
        await Task.Delay(200);
        Assert.Equal(0, pausedReceived.Count);
        Assert.Equal(Enumerable.Range(0, 100), flowingReceived.Numbers);

        // The paused connection's basic.get is held too (get-empty) while another's is not.
        await flowing.BasicCancelAsync(flowingReceived.Tag);
        await PublishNumbersAsync(flowing, "", "shared", 100, 1);
        await Task.Delay(100);
        Assert.Null(await paused.BasicGetAsync("shared", autoAck: true));
        await using var other = await flowingConnection.CreateChannelAsync();
        Assert.NotNull(await other.BasicGetAsync("shared", autoAck: true));
    }

    [Fact]
    public async Task A_pause_scoped_to_a_client_address_holds_only_the_client_from_that_address()
    {
        var fromSecondAddress = Gateway.ClientFactory();
        fromSecondAddress.SocketFactory = family =>
        {
            // Linux routes all of 127/8 to loopback: binding the client's end to 127.0.0.2 gives the gateway a second source address.
            var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            return new TcpClientAdapter(socket);
        };
        await using var pausedConnection = await fromSecondAddress.CreateConnectionAsync();
        await using var flowingConnection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var paused = await pausedConnection.CreateChannelAsync();
        await using var flowing = await flowingConnection.CreateChannelAsync(Confirms);
        await flowing.QueueDeclareAsync("by-address", durable: true, exclusive: false, autoDelete: false);

        var pausedReceived = await Collector.StartAsync(paused, "by-address");
        Gateway.Traffic.Apply(State(pauses: [Pause("by-address", clientAddress: "127.0.0.2")]));
        var flowingReceived = await Collector.StartAsync(flowing, "by-address");
        await PublishNumbersAsync(flowing, "", "by-address", 0, 60);

        await GatewayFixture.WaitUntilAsync(() => flowingReceived.Count >= 60);
        await Task.Delay(200);
        Assert.Equal(0, pausedReceived.Count);

        var consumers = Gateway.Traffic.Snapshot().Consumers.Where(c => c.Queue == "by-address").ToList();
        Assert.Contains(consumers, c => c is { ClientAddress: "127.0.0.2", Paused: true });
        Assert.Contains(consumers, c => c is { ClientAddress: "127.0.0.1", Paused: false });

        // Resumed, the held consumer takes its turn again.
        Gateway.Traffic.Apply(State());
        await PublishNumbersAsync(flowing, "", "by-address", 60, 40);
        await GatewayFixture.WaitUntilAsync(() => pausedReceived.Count + flowingReceived.Count >= 100);
        Assert.True(pausedReceived.Count > 0);
    }

    [Fact]
    public async Task A_new_consumer_on_a_paused_queue_gets_nothing_until_resumed_and_basic_get_finds_it_empty()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("paused-before", durable: true, exclusive: false, autoDelete: false);
        await PublishNumbersAsync(channel, "", "paused-before", 0, 20);
        Gateway.Traffic.Apply(State(pauses: [Pause("paused-before")]));

        Assert.Null(await channel.BasicGetAsync("paused-before", autoAck: true));
        await using var consuming = await connection.CreateChannelAsync();
        var received = await Collector.StartAsync(consuming, "paused-before");
        await Task.Delay(500);
        Assert.Equal(0, received.Count);
        var queue = Assert.Single(Gateway.Traffic.Snapshot().Queues, q => q.Queue == "paused-before");
        Assert.True(queue.Paused);
        Assert.Equal(20, queue.Ready);

        Gateway.Traffic.Apply(State());
        await GatewayFixture.WaitUntilAsync(() => received.Count >= 20);
        Assert.Equal(Enumerable.Range(0, 20), received.Numbers);
    }

    [Fact]
    public async Task A_consume_limit_delivers_at_its_rate_and_removing_it_lets_the_backlog_flow()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("limited", durable: true, exclusive: false, autoDelete: false);
        await PublishNumbersAsync(channel, "", "limited", 0, 600);
        Gateway.Traffic.Apply(State(consumeLimits: [new ConsumeLimitShare("/", "limited", 100, 50)]));

        await using var consuming = await connection.CreateChannelAsync();
        var started = Stopwatch.StartNew();
        var received = await Collector.StartAsync(consuming, "limited", prefetch: 100);
        await Task.Delay(3000);
        int count = received.Count;
        double seconds = started.Elapsed.TotalSeconds;

        // Never above the limit (50/s plus the capacity of 5); the lower bound only allows for a loaded machine.
        Assert.InRange(count, 105, (int)(50 * seconds) + 5);

        Gateway.Traffic.Apply(State());
        var stopwatch = Stopwatch.StartNew();
        await GatewayFixture.WaitUntilAsync(() => received.Count >= 600);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"the backlog took {stopwatch.Elapsed}");
        Assert.Equal(Enumerable.Range(0, 600), received.Numbers);
    }

    [Fact]
    public async Task A_publish_limit_slows_a_confirming_publisher_without_errors()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("publish-limited", durable: true, exclusive: false, autoDelete: false);
        Gateway.Traffic.Apply(State(publishLimits: [new PublishLimitShare("/", null, 100, 100)]));

        var stopwatch = Stopwatch.StartNew();
        await PublishNumbersAsync(channel, "", "publish-limited", 0, 300);   // each awaits its confirm: all confirmed, none refused
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(2.4), $"300 publishes at 100/s took only {stopwatch.Elapsed}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"300 publishes at 100/s took {stopwatch.Elapsed}");
        Assert.True(channel.IsOpen);
        var publishing = Assert.Single(Gateway.Traffic.Snapshot().Publishing, p => p.VHost == "/" && p.Exchange == "");
        Assert.Equal(300, publishing.Published);
        Assert.True(publishing.ThrottledWaits > 0, "no publish waited");   // how many depends on the round trip of each confirm
        Assert.Equal(300u, await channel.MessageCountAsync("publish-limited"));
    }

    [Fact]
    public async Task A_client_advertising_connection_blocked_is_told_blocked_then_unblocked_when_the_limit_is_lifted()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var events = new ConcurrentQueue<string>();
        var unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionBlockedAsync += (_, e) =>
        {
            events.Enqueue("blocked:" + e.Reason);
            return Task.CompletedTask;
        };
        connection.ConnectionUnblockedAsync += (_, _) =>
        {
            events.Enqueue("unblocked");
            unblocked.TrySetResult();
            return Task.CompletedTask;
        };
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("blocked", durable: true, exclusive: false, autoDelete: false);
        Gateway.Traffic.Apply(State(publishLimits: [new PublishLimitShare("/", null, 0, 0)]));   // a share of 0: nothing passes

        Task publishing = PublishNumbersAsync(channel, "", "blocked", 0, 3);
        await GatewayFixture.WaitUntilAsync(() => events.Contains("blocked:publish rate limit"));
        await Task.Delay(300);
        Assert.False(publishing.IsCompleted);

        Gateway.Traffic.Apply(State());
        await unblocked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await publishing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["blocked:publish rate limit", "unblocked"], events);
        Assert.Equal(3u, await channel.MessageCountAsync("blocked"));
        Assert.Equal(2, Gateway.Logs.Count(3001));   // state applied, twice
        Assert.Equal(1, Gateway.Logs.Count(1101));   // held
        Assert.Equal(1, Gateway.Logs.Count(1102));   // released
    }

    [Fact]
    public async Task A_held_connection_is_released_after_a_second_without_waiting()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        var unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionUnblockedAsync += (_, _) =>
        {
            unblocked.TrySetResult();
            return Task.CompletedTask;
        };
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("released", durable: true, exclusive: false, autoDelete: false);
        Gateway.Traffic.Apply(State(publishLimits: [new PublishLimitShare("/", "", 2, 2)]));

        await PublishNumbersAsync(channel, "", "released", 0, 3);   // a capacity of 1: the second and third wait half a second each
        Assert.Equal(1, ((TrafficControl)Gateway.Traffic).BlockedConnections);
        await unblocked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, ((TrafficControl)Gateway.Traffic).BlockedConnections);
    }

    [Fact]
    public async Task A_client_that_goes_away_while_held_ends_its_connection()
    {
        Socket? clientSocket = null;
        var factory = Gateway.ClientFactory();
        factory.SocketFactory = family => new TcpClientAdapter(clientSocket = new Socket(family, SocketType.Stream, ProtocolType.Tcp));
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("abandoned", durable: true, exclusive: false, autoDelete: false);
        var traffic = (TrafficControl)Gateway.Traffic;
        traffic.Apply(State(publishLimits: [new PublishLimitShare("/", null, 0, 0)]));
        await channel.BasicPublishAsync("", "abandoned", BitConverter.GetBytes(1));
        await GatewayFixture.WaitUntilAsync(() => traffic.BlockedConnections == 1);

        // The gateway reads nothing while held, yet must notice the client's socket going.
        clientSocket!.Close();
        await GatewayFixture.WaitUntilAsync(() => Gateway.Metrics.OpenConnections == 0 && traffic.BlockedConnections == 0);
        await connection.AbortAsync(TimeSpan.FromMilliseconds(100));
        connection.Dispose();
    }

    [Fact]
    public async Task A_publish_limit_on_one_exchange_does_not_slow_publishes_to_another()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.ExchangeDeclareAsync("slow", ExchangeType.Fanout, durable: true);
        await channel.QueueDeclareAsync("fast-target", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync("slow-target", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync("slow-target", "slow", "");
        Gateway.Traffic.Apply(State(publishLimits: [new PublishLimitShare("/", "slow", 10, 10)]));

        var stopwatch = Stopwatch.StartNew();
        await PublishNumbersAsync(channel, "", "fast-target", 0, 200);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"200 publishes to an unlimited exchange took {stopwatch.Elapsed}");
        Assert.Contains(Gateway.Traffic.Snapshot().Publishing, p => p is { Exchange: "", Published: 200, ThrottledWaits: 0 });

        stopwatch.Restart();
        await PublishNumbersAsync(channel, "slow", "", 0, 11);   // a capacity of 1, then 10 at 10/s
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.8), $"11 publishes at 10/s took only {stopwatch.Elapsed}");
        Assert.Contains(Gateway.Traffic.Snapshot().Publishing, p => p is { Exchange: "slow", Published: 11 } && p.ThrottledWaits >= 9);
    }

    [Fact]
    public async Task Snapshot_reports_queues_consumers_and_publishing()
    {
        var factory = Gateway.ClientFactory();
        factory.ClientProvidedName = "reporter";
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("reported", durable: true, exclusive: false, autoDelete: false);
        await PublishNumbersAsync(channel, "", "reported", 0, 10);
        await using var consuming = await connection.CreateChannelAsync();
        var received = await Collector.StartAsync(consuming, "reported", prefetch: 7);
        await GatewayFixture.WaitUntilAsync(() => received.Count >= 10);
        Gateway.Traffic.Apply(State(
            pauses: [Pause("reported")],
            consumeLimits: [new ConsumeLimitShare("/", "reported", 40, 20)]));

        await GatewayFixture.WaitUntilAsync(() => Gateway.Traffic.Snapshot().Queues.Single(q => q.Queue == "reported").Acked == 10);
        TrafficSnapshot snapshot = Gateway.Traffic.Snapshot();
        Assert.True(snapshot.Connections >= 1);
        Assert.True(snapshot.Channels >= 2);
        var queue = Assert.Single(snapshot.Queues, q => q.Queue == "reported");
        Assert.Equal(new QueueTraffic("/", "reported", 0, 0, 1, 10, 10, 10, 0, true, 20), queue);
        var consumer = Assert.Single(snapshot.Consumers, c => c.Queue == "reported");
        Assert.Equal(("127.0.0.1", "reporter", 7, 0, 10L, true), (consumer.ClientAddress, consumer.ConnectionName, consumer.Prefetch, consumer.Unacked, consumer.Delivered, consumer.Paused));
        Assert.Equal(received.Tag, consumer.ConsumerTag);
        Assert.Contains(snapshot.Publishing, p => p is { VHost: "/", Exchange: "", Published: 10, ThrottledWaits: 0 });
        Assert.Equal("reported-state", Gateway.Traffic.Current.ETag[..14]);
    }

    [Fact]
    public async Task The_metrics_show_paused_queues_and_limits()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("watched", durable: true, exclusive: false, autoDelete: false);
        Gateway.Traffic.Apply(State(
            pauses: [Pause("watched")],
            consumeLimits: [new ConsumeLimitShare("/", "watched", 30, 15)],
            publishLimits: [new PublishLimitShare("/", null, 50, 25), new PublishLimitShare("/", "amq.topic", 8, 4)]));

        using var http = new HttpClient();
        string text = await http.GetStringAsync(Gateway.MetricsUrl);
        Assert.Contains("gateway_queue_paused{vhost=\"/\",queue=\"watched\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gateway_queue_consume_limit_per_second{vhost=\"/\",queue=\"watched\"} 15", text, StringComparison.Ordinal);
        Assert.Contains("gateway_publish_limit_per_second{vhost=\"/\",exchange=\"*\"} 25", text, StringComparison.Ordinal);
        Assert.Contains("gateway_publish_limit_per_second{vhost=\"/\",exchange=\"amq.topic\"} 4", text, StringComparison.Ordinal);
        Assert.Contains("gateway_connections_blocked 0", text, StringComparison.Ordinal);

        Gateway.Traffic.Apply(State());
        text = await http.GetStringAsync(Gateway.MetricsUrl);
        Assert.Contains("gateway_queue_paused{vhost=\"/\",queue=\"watched\"} 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway_queue_consume_limit_per_second{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway_publish_limit_per_second{", text, StringComparison.Ordinal);
    }

    internal static ControlState State(
        IReadOnlyList<PauseRule>? pauses = null,
        IReadOnlyList<ConsumeLimitShare>? consumeLimits = null,
        IReadOnlyList<PublishLimitShare>? publishLimits = null) =>
        new("reported-state-" + Guid.NewGuid().ToString("N"), pauses ?? [], consumeLimits ?? [], publishLimits ?? []);

    private static PauseRule Pause(string queue, string? clientAddress = null, string? connectionName = null) =>
        new(Guid.NewGuid().ToString("N"), "/", queue, clientAddress, connectionName, DateTimeOffset.UtcNow);

    /// <summary>Publishes the numbers from..from+count-1 as 4-byte bodies; with confirm tracking each awaits its ack.</summary>
    internal static async Task PublishNumbersAsync(IChannel channel, string exchange, string routingKey, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, new BasicProperties { Persistent = true }, BitConverter.GetBytes(i));
        }
    }

    /// <summary>A consumer that records what it gets, in order, and acks each message.</summary>
    private sealed class Collector
    {
        private readonly ConcurrentQueue<(int Number, bool Redelivered)> _received = new();

        public string Tag { get; private set; } = "";

        public int Count => _received.Count;

        public IEnumerable<int> Numbers => _received.Select(r => r.Number).ToList();

        public IEnumerable<bool> Redelivered => _received.Select(r => r.Redelivered).ToList();

        public static async Task<Collector> StartAsync(IChannel channel, string queue, ushort prefetch = 10, Action<int>? onReceived = null)
        {
            await channel.BasicQosAsync(0, prefetch, global: false);
            var collector = new Collector();
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                collector._received.Enqueue((BitConverter.ToInt32(delivery.Body.Span), delivery.Redelivered));
                onReceived?.Invoke(collector.Count);
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            };
            collector.Tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
            return collector;
        }
    }
}
