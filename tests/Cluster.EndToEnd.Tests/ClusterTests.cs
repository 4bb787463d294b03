using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Controller.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Xunit.Abstractions;

namespace Cluster.EndToEnd.Tests;

/// <summary>
/// Issue 8's acceptance tests on the real deployment: every process separate, state in PostgreSQL, the
/// controller's desired state travelling to the gateways over HTTP. Queue names are unique per test; rules
/// a test sets are removed by the same test, so the tests share one cluster.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string VHost = "/";
    private static readonly TimeSpan InSyncTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Both_gateways_register_and_the_controller_sums_a_queue_over_them()
    {
        const string queue = "e2e-registry";
        await using var one = await cluster.ConnectAsync(1);
        await using var two = await cluster.ConnectAsync(2);
        await DeclareAndFillAsync(one, queue, 3);
        await DeclareAndFillAsync(two, queue, 4);

        await ClusterFixture.WaitUntilAsync(
            async () => (await cluster.Controller.GetQueuesAsync()).SingleOrDefault(q => q.Queue == queue) is { Ready: 7, Nodes.Count: 2 },
            TimeSpan.FromSeconds(10),
            "the queue reported by both gateways with 3 + 4 ready messages");
        var nodes = await cluster.Controller.GetNodesAsync();
        Assert.Equal(["gateway-1", "gateway-2"], nodes.Where(n => n.Live).Select(n => n.NodeId).Order());
    }

    [Fact]
    public async Task A_consumer_paused_mid_stream_gets_nothing_more_until_resumed_then_everything_once()
    {
        const string queue = "e2e-pause-mid-stream";
        const int total = 300;
        await using var connection = await cluster.ConnectAsync(1);
        await DeclareAndFillAsync(connection, queue, total);
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 5, false);
        var received = new ConcurrentQueue<(string Id, bool Redelivered)>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            received.Enqueue((Encoding.UTF8.GetString(delivery.Body.Span), delivery.Redelivered));
            await Task.Delay(2);   // a consumer doing some work, so the pause lands mid-stream
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        await ClusterFixture.WaitUntilAsync(() => Task.FromResult(received.Count >= 50), TimeSpan.FromSeconds(10), "50 deliveries");

        await using (var other = await cluster.ConnectAsync(2))
        {
            await DeclareAndFillAsync(other, queue, 0);   // served by both gateways: the pause must reach both
        }

        var sincePause = Stopwatch.StartNew();
        await cluster.Controller.PauseAsync(new PauseRequest(VHost, queue));
        var reached = await Task.WhenAll(cluster.MetricsUrls.Select(url => TimeUntilPausedAsync(url, queue, sincePause)));
        output.WriteLine($"pause in force on gateway-1 after {reached[0].TotalMilliseconds:0} ms, on gateway-2 after {reached[1].TotalMilliseconds:0} ms (from the API call)");
        Assert.All(reached, elapsed => Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the pause took {elapsed.TotalMilliseconds:0} ms to reach a gateway"));
        await Task.Delay(TimeSpan.FromSeconds(1) - sincePause.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        int atOneSecond = received.Count;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(atOneSecond, received.Count);
        Assert.True(atOneSecond < total, $"the pause came too late to show anything ({atOneSecond} of {total} delivered)");

        Assert.Equal(1, await cluster.Controller.ResumeAsync(VHost, queue));
        await ClusterFixture.WaitUntilAsync(() => Task.FromResult(received.Count >= total), TimeSpan.FromSeconds(20), "every message after resume");
        await Task.Delay(300);
        Assert.Equal(total, received.Count);
        Assert.Equal(total, received.Select(r => r.Id).Distinct().Count());
        Assert.DoesNotContain(received, r => r.Redelivered);
    }

    [Fact]
    public async Task A_pause_limited_to_one_client_address_leaves_the_other_consumers_flowing()
    {
        const string queue = "e2e-pause-address";
        await using var fromOther = await cluster.ConnectAsync(1, "e2e-other-host", IPAddress.Parse("127.0.0.2"));
        await using var fromLocal = await cluster.ConnectAsync(1, "e2e-local-host", IPAddress.Loopback);
        await DeclareAndFillAsync(fromLocal, queue, 0);
        await cluster.Controller.PauseAsync(new PauseRequest(VHost, queue, ClientAddress: "127.0.0.2"));
        try
        {
            await WaitForGatewaysInSyncAsync();
            var pausedCount = await CountDeliveriesAsync(fromOther, queue);
            var flowingCount = await CountDeliveriesAsync(fromLocal, queue);
            await FillAsync(fromLocal, queue, 100);

            await ClusterFixture.WaitUntilAsync(() => Task.FromResult(flowingCount() == 100), TimeSpan.FromSeconds(10), "the unpaused consumer to get all 100");
            Assert.Equal(0, pausedCount());
            await ClusterFixture.WaitUntilAsync(
                async () => (await cluster.Controller.GetConsumersAsync()).Where(c => c.Queue == queue).Count(c => c.Paused && c.ClientAddress == "127.0.0.2") == 1,
                TimeSpan.FromSeconds(5),
                "the controller to list the 127.0.0.2 consumer as paused");
        }
        finally
        {
            await cluster.Controller.ResumeAsync(VHost, queue, clientAddress: "127.0.0.2");
        }
    }

    [Fact]
    public async Task A_consume_limit_of_100_per_second_holds_within_10_percent_over_10_seconds_with_consumers_on_two_gateways()
    {
        const string queue = "e2e-consume-limit";
        await using var one = await cluster.ConnectAsync(1);
        await using var two = await cluster.ConnectAsync(2);
        // More than 10 s of the limit on each gateway, so neither runs dry whatever its share.
        await DeclareAndFillAsync(one, queue, 1500);
        await DeclareAndFillAsync(two, queue, 1500);
        await cluster.Controller.SetConsumeLimitAsync(new ConsumeLimit(VHost, queue, 100));
        try
        {
            await WaitForGatewaysInSyncAsync();
            var onOne = await CountDeliveriesAsync(one, queue, prefetch: 100);
            var onTwo = await CountDeliveriesAsync(two, queue, prefetch: 100);

            // The controller learns of the consumers from the next heartbeats and splits the limit between the two gateways.
            await ClusterFixture.WaitUntilAsync(
                async () => (await cluster.Controller.GetConsumersAsync()).Count(c => c.Queue == queue) == 2,
                TimeSpan.FromSeconds(10),
                "both consumers reported");
            await WaitForGatewaysInSyncAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));

            int before = onOne() + onTwo();
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(10));
            int delivered = onOne() + onTwo() - before;
            double rate = delivered / window.Elapsed.TotalSeconds;

            output.WriteLine($"consume limit 100 msg/s: measured {rate:0.0} msg/s over {window.Elapsed.TotalSeconds:0.0} s ({delivered} deliveries; gateway-1 {onOne()}, gateway-2 {onTwo()} in total)");
            Assert.InRange(rate, 90, 110);
            Assert.True(onOne() > 0 && onTwo() > 0, $"both gateways deliver ({onOne()} / {onTwo()})");
        }
        finally
        {
            await cluster.Controller.RemoveConsumeLimitAsync(VHost, queue);
        }
    }

    [Fact]
    public async Task A_publish_limit_slows_a_publisher_without_errors_and_tells_it_connection_blocked()
    {
        const string exchange = "e2e-publish-limit";
        const string queue = "e2e-publish-limit-q";
        await using var connection = await cluster.ConnectAsync(2);
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var unblocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionBlockedAsync += (_, _) => { blocked.TrySetResult(); return Task.CompletedTask; };
        connection.ConnectionUnblockedAsync += (_, _) => { unblocked.TrySetResult(); return Task.CompletedTask; };
        await using (var setup = await connection.CreateChannelAsync())
        {
            await setup.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
            await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await setup.QueueBindAsync(queue, exchange, "");
        }

        await cluster.Controller.SetPublishLimitAsync(new PublishLimit(VHost, exchange, 100));
        try
        {
            await WaitForGatewaysInSyncAsync();
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            var elapsed = Stopwatch.StartNew();
            var confirms = Enumerable.Range(0, 300)
                .Select(i => channel.BasicPublishAsync(exchange, "", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).AsTask())
                .ToList();
            await Task.WhenAll(confirms);   // every publish confirmed: no nack, no channel error
            elapsed.Stop();

            // 300 messages at 100/s: at least 2.4 s (a small burst allowance), where unthrottled they take a fraction of that.
            output.WriteLine($"publish limit 100 msg/s: 300 confirmed publishes took {elapsed.Elapsed.TotalSeconds:0.00} s ({300 / elapsed.Elapsed.TotalSeconds:0.0} msg/s)");
            Assert.True(elapsed.Elapsed >= TimeSpan.FromSeconds(2.4), $"300 publishes took only {elapsed.Elapsed.TotalSeconds:0.00} s");
            await blocked.Task.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(connection.IsOpen);
            await using var check = await connection.CreateChannelAsync();
            Assert.Equal(300u, await check.MessageCountAsync(queue));
        }
        finally
        {
            await cluster.Controller.RemovePublishLimitAsync(VHost, exchange);
        }

        await unblocked.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Gwctl_lists_pauses_throttles_and_gives_the_exit_codes_scripts_rely_on()
    {
        const string queue = "e2e-gwctl";
        await using (var connection = await cluster.ConnectAsync(1))
        {
            await DeclareAndFillAsync(connection, queue, 2);
        }

        var nodes = await cluster.GwctlAsync("nodes");
        Assert.True(nodes.ExitCode == 0, nodes.Error);
        Assert.Contains("gateway-1", nodes.Output, StringComparison.Ordinal);
        Assert.Contains("gateway-2", nodes.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await cluster.GwctlAsync("pause", queue, "--vhost", VHost)).ExitCode);
        await ClusterFixture.WaitUntilAsync(
            async () =>
            {
                var listed = await cluster.GwctlAsync("queues", "--json");
                var queues = JsonSerializer.Deserialize(listed.Output, ControllerJsonContext.Default.QueueViewArray)!;
                return queues.SingleOrDefault(q => q.Queue == queue) is { Paused: true, Ready: 2 };
            },
            TimeSpan.FromSeconds(10),
            "gwctl queues --json to show the queue paused");
        var table = await cluster.GwctlAsync("queues");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(queue, table.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await cluster.GwctlAsync("resume", queue)).ExitCode);
        Assert.Equal(3, (await cluster.GwctlAsync("resume", queue)).ExitCode);   // nothing paused any more

        Assert.Equal(2, (await cluster.GwctlAsync("throttle", queue, "--rate", "0")).ExitCode);
        Assert.Equal(0, (await cluster.GwctlAsync("throttle", queue, "--rate", "50")).ExitCode);
        var status = await cluster.GwctlAsync("status", "--json");
        Assert.Equal(0, status.ExitCode);
        var parsed = JsonSerializer.Deserialize(status.Output, ControllerJsonContext.Default.ControllerStatus)!;
        Assert.Contains(parsed.ConsumeLimits, l => l.Queue == queue && l.MessagesPerSecond == 50);
        Assert.Equal(0, (await cluster.GwctlAsync("unthrottle", queue)).ExitCode);
        Assert.Equal(3, (await cluster.GwctlAsync("unthrottle", queue)).ExitCode);

        Assert.Equal(4, (await cluster.GwctlAsync("status", "--token", "not-the-token")).ExitCode);
        var unreachable = await cluster.GwctlAsync("status", "--controller", "http://127.0.0.1:9");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.False(string.IsNullOrWhiteSpace(unreachable.Error));
    }

    [Fact]
    public async Task The_standby_controller_takes_over_when_the_leader_dies_and_the_gateways_follow_it()
    {
        const string queue = "e2e-failover";
        var before = await cluster.Controller.GetStatusAsync();
        Assert.True(before.IsLeader);
        string oldLeader = before.LeaderId!;

        await using var connection = await cluster.ConnectAsync(2);
        await DeclareAndFillAsync(connection, queue, 0);
        await cluster.Controller.PauseAsync(new PauseRequest(VHost, queue));
        await WaitForGatewaysInSyncAsync();
        var delivered = await CountDeliveriesAsync(connection, queue);

        Assert.Equal(0, (await cluster.ScriptAsync("kill", oldLeader)).ExitCode);
        var killed = Stopwatch.StartNew();
        try
        {
            // Without a controller the gateways keep the last state: the queue stays paused.
            await FillAsync(connection, queue, 20);
            await ClusterFixture.WaitUntilAsync(
                async () => (await cluster.Controller.GetStatusAsync()) is { IsLeader: true } now && now.LeaderId != oldLeader,
                TimeSpan.FromSeconds(20),
                "the standby to take the lease");
            var after = await cluster.Controller.GetStatusAsync();
            output.WriteLine($"fail-over: {after.LeaderId} leads (epoch {before.Epoch} → {after.Epoch}) {killed.Elapsed.TotalSeconds:0.0} s after {oldLeader} was killed");
            Assert.True(after.Epoch > before.Epoch, $"epoch {before.Epoch} → {after.Epoch}");
            Assert.Contains(after.Pauses, p => p.Queue == queue);   // the state persisted through the old leader
            await WaitForGatewaysInSyncAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(0, delivered());

            // The new leader's decisions reach the gateways.
            await cluster.Controller.ResumeAsync(VHost, queue);
            await ClusterFixture.WaitUntilAsync(() => Task.FromResult(delivered() == 20), TimeSpan.FromSeconds(5), "the 20 messages after resume through the new leader");
        }
        finally
        {
            await cluster.ScriptAsync("start-one", oldLeader);
        }

        var standby = await cluster.Controller.GetStatusAsync();
        Assert.NotEqual(oldLeader, standby.LeaderId);   // the old leader came back as the standby
    }

    /// <summary>Polls a gateway's /metrics until gateway_queue_paused is 1 for the queue; returns the time since <paramref name="since"/> started.</summary>
    private static async Task<TimeSpan> TimeUntilPausedAsync(Uri metrics, string queue, Stopwatch since)
    {
        using var http = new HttpClient();
        string series = $"gateway_queue_paused{{vhost=\"/\",queue=\"{queue}\"}} 1";
        while (since.Elapsed < TimeSpan.FromSeconds(10))
        {
            if ((await http.GetStringAsync(metrics)).Contains(series, StringComparison.Ordinal))
            {
                return since.Elapsed;
            }

            await Task.Delay(10);
        }

        return since.Elapsed;
    }

    private async Task WaitForGatewaysInSyncAsync(TimeSpan? timeout = null) =>
        await ClusterFixture.WaitUntilAsync(
            async () => (await cluster.Controller.GetNodesAsync()).Count(n => n.Live && n.InSync) == 2,
            timeout ?? InSyncTimeout,
            "both gateways in sync with the controller's state");

    private static async Task DeclareAndFillAsync(IConnection connection, string queue, int count)
    {
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await FillAsync(connection, queue, count);
    }

    private static async Task FillAsync(IConnection connection, string queue, int count)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var confirms = Enumerable.Range(0, count)
            .Select(i => channel.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes($"{queue}-{i}")).AsTask())
            .ToList();
        await Task.WhenAll(confirms);
    }

    /// <summary>Starts a consumer with automatic ack; the returned function reads how many it got so far.</summary>
    private static async Task<Func<int>> CountDeliveriesAsync(IConnection connection, string queue, ushort prefetch = 10)
    {
        var channel = await connection.CreateChannelAsync();   // closed with the connection
        await channel.BasicQosAsync(0, prefetch, false);
        int count = 0;
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            Interlocked.Increment(ref count);
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return () => Volatile.Read(ref count);
    }
}
