using MetaService.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// Two gateways on one meta-service, as in the cluster deployment: what a client declares, binds, unbinds or
/// deletes through one gateway reaches the other's routing without a restart (TopologyService.Following.cs),
/// and the feed's echo of a gateway's own changes never undoes a newer change of its own.
/// </summary>
public sealed class SharedTopologyTests : IAsyncLifetime
{
    private const string Token = "shared-topology-token";
    private readonly string _directory = Directory.CreateTempSubdirectory("shared-topology-").FullName;
    private WebApplication _metaService = null!;
    private GatewayFixture _one = null!;
    private GatewayFixture _two = null!;

    public async Task InitializeAsync()
    {
        _metaService = await MetaServiceApp.CreateAsync(new MetaServiceOptions { Bind = "127.0.0.1", Port = 0, Sqlite = Path.Combine(_directory, "meta.db"), Token = Token });
        await _metaService.StartAsync();
        string url = MetaServiceApp.ListeningUrls(_metaService)[0].ToString();
        _one = await GatewayFixture.StartAsync(false, "--metadata", url, "--metadata-token", Token);
        _two = await GatewayFixture.StartAsync(false, "--metadata", url, "--metadata-token", Token);
    }

    public async Task DisposeAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
        await _metaService.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Topology_declared_and_removed_through_one_gateway_reaches_the_other_without_a_restart()
    {
        await using var first = await _one.ClientFactory().CreateConnectionAsync();
        await using var declaring = await first.CreateChannelAsync();
        await declaring.ExchangeDeclareAsync("orders.x", ExchangeType.Direct, durable: true);
        await declaring.QueueDeclareAsync("orders.q", durable: true, exclusive: false, autoDelete: false);
        await declaring.QueueBindAsync("orders.q", "orders.x", "new");

        // The second gateway never saw a declare: it routes by what the first one declared.
        await GatewayFixture.WaitUntilAsync(() => RoutesTo(_two, "orders.x", "new", "orders.q"), TimeSpan.FromSeconds(10), "the binding on the second gateway");
        await using var second = await _two.ClientFactory().CreateConnectionAsync();
        await using var publishing = await second.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await publishing.BasicPublishAsync("orders.x", "new", mandatory: true, "o-1"u8.ToArray());
        var got = await publishing.BasicGetAsync("orders.q", autoAck: true);
        Assert.Equal("o-1", System.Text.Encoding.UTF8.GetString(got!.Body.Span));

        await declaring.QueueUnbindAsync("orders.q", "orders.x", "new");
        await GatewayFixture.WaitUntilAsync(() => !RoutesTo(_two, "orders.x", "new", "orders.q"), TimeSpan.FromSeconds(10), "the unbind on the second gateway");

        await declaring.QueueDeleteAsync("orders.q");
        await GatewayFixture.WaitUntilAsync(() => _two.Topology.FindQueue("/", "orders.q") is null, TimeSpan.FromSeconds(10), "the second gateway to stop serving the deleted queue");
        await declaring.ExchangeDeleteAsync("orders.x");
        await GatewayFixture.WaitUntilAsync(
            () => _two.Topology.Routing("/").Route("orders.x", "new", null).Status == Gateway.Broker.Routing.RouteStatus.ExchangeNotFound,
            TimeSpan.FromSeconds(10),
            "the exchange gone on the second gateway");
    }

    [Fact]
    public async Task A_queue_with_x_expires_in_use_through_one_gateway_is_not_expired_by_the_other()
    {
        await using var connection = await _one.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("leased.q", durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-expires"] = 1000 });
        await channel.BasicConsumeAsync("leased.q", autoAck: true, new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(channel));
        await GatewayFixture.WaitUntilAsync(() => _two.Topology.FindQueue("/", "leased.q") is not null, TimeSpan.FromSeconds(10), "the second gateway to serve the queue");

        // The second gateway has no consumer of it; were it to judge x-expires, it would delete the queue after 1 s.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.NotNull(_one.Topology.FindQueue("/", "leased.q"));
        Assert.NotNull(_two.Topology.FindQueue("/", "leased.q"));
    }

    [Fact]
    public async Task The_echo_of_a_gateways_own_bind_never_undoes_its_later_unbind()
    {
        await using var connection = await _one.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("echo.x", ExchangeType.Fanout, durable: true);
        await channel.QueueDeclareAsync("echo.q", durable: true, exclusive: false, autoDelete: false);
        long rebuildsBefore = _one.Topology.TopologyRebuilds;
        for (int i = 0; i < 20; i++)
        {
            await channel.QueueBindAsync("echo.q", "echo.x", "");
            Assert.True(RoutesTo(_one, "echo.x", "", "echo.q"), "bind-ok must mean routed, whatever the feed is replaying");
            await channel.QueueUnbindAsync("echo.q", "echo.x", "");
            Assert.False(RoutesTo(_one, "echo.x", "", "echo.q"), "unbind-ok must mean not routed");
        }

        // Once the feed's echoes are all applied the binding is still gone, here and on the other gateway.
        await GatewayFixture.WaitUntilAsync(() => _one.Topology.TopologyRebuilds > rebuildsBefore, TimeSpan.FromSeconds(10), "the echoes to be rebuilt");
        await Task.Delay(500);
        Assert.False(RoutesTo(_one, "echo.x", "", "echo.q"));
        await GatewayFixture.WaitUntilAsync(() => _two.Topology.Routing("/").Route("echo.x", "", null).Status == Gateway.Broker.Routing.RouteStatus.Routed, TimeSpan.FromSeconds(10), "the exchange on the second gateway");
        Assert.False(RoutesTo(_two, "echo.x", "", "echo.q"));
    }

    private static bool RoutesTo(GatewayFixture gateway, string exchange, string routingKey, string queue) =>
        gateway.Topology.Routing("/").Route(exchange, routingKey, null) is { Status: Gateway.Broker.Routing.RouteStatus.Routed } result && result.Queues.Contains(queue);
}
