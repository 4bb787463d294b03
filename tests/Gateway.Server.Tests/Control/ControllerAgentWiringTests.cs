using System.Net;
using Gateway.Host;
using Gateway.Host.Control;
using Gateway.Server.Control;
using Gateway.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Control;

/// <summary>The control agent as GatewayApplication wires it from the gateway's switches.</summary>
public sealed class ControllerAgentWiringTests
{
    [Fact]
    public async Task A_gateway_with_a_controller_reports_its_endpoints_applies_states_and_shows_the_link_in_its_metrics()
    {
        await using var controller = await FakeController.StartAsync();
        var fallback = new RecordingTrafficControl();
        await using var gateway = await GatewayFixture.StartWithServicesAsync(
            // Stands in until the gateway registers its own enforcement; when it does, that one is used.
            services => services.AddSingleton<ITrafficControl>(fallback),
            "--controller", controller.Url.ToString(),
            "--controller-token", controller.Token,
            "--node-id", "gw-wired",
            "--controller-heartbeat-ms", "100");

        await GatewayFixture.WaitUntilAsync(() => !controller.Reports.IsEmpty, TimeSpan.FromSeconds(15), "a heartbeat");
        var report = controller.Reports.First();
        Assert.Equal("gw-wired", report.NodeId);
        Assert.Equal($"127.0.0.1:{gateway.Port}", report.AmqpEndpoint);
        Assert.Equal(gateway.MetricsUrl!.ToString(), report.MetricsUrl);

        controller.SetState(FakeController.StateWithPause("wired-1", "orders"));
        var traffic = gateway.Services.GetRequiredService<ITrafficControl>();
        await GatewayFixture.WaitUntilAsync(() => traffic.Current.ETag == "wired-1", TimeSpan.FromSeconds(15), "the state applied");

        using var http = new HttpClient();
        string scrape = "";
        await GatewayFixture.WaitUntilAsync(
            () =>
            {
                scrape = http.GetStringAsync(gateway.MetricsUrl).GetAwaiter().GetResult();
                return scrape.Contains("gateway_controller_connected 1", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(15),
            "the connected gauge");
        // wired-1, and before it the controller's empty state unless the change came before the first poll.
        var applied = System.Text.RegularExpressions.Regex.Match(scrape, @"^gateway_control_state_applied_total (\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(applied.Success && int.Parse(applied.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1, scrape);
        Assert.Contains("gateway_control_state_age_seconds ", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_restarted_while_no_controller_answers_enforces_the_last_state_it_received()
    {
        const string queue = "restart-paused";
        string dataDir = Path.Combine(Path.GetTempPath(), "gw-control-state-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using (var controller = await FakeController.StartAsync())
            {
                await using var gateway = await GatewayFixture.StartOnDataDirAsync(
                    dataDir, false, "--controller", controller.Url.ToString(), "--controller-token", controller.Token, "--controller-heartbeat-ms", "100");
                await using (var connection = await new ConnectionFactory { Port = gateway.Port }.CreateConnectionAsync())
                await using (var channel = await connection.CreateChannelAsync())
                {
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
                    await channel.BasicPublishAsync("", queue, "kept"u8.ToArray());
                }

                controller.SetState(FakeController.StateWithPause("saved-1", queue));
                var traffic = gateway.Services.GetRequiredService<ITrafficControl>();
                await GatewayFixture.WaitUntilAsync(() => traffic.Current.ETag == "saved-1", TimeSpan.FromSeconds(15), "the pause applied");
            }

            // Nothing listens on port 9: the restarted gateway cannot reach any controller.
            await using var restarted = await GatewayFixture.StartOnDataDirAsync(
                dataDir, false, "--controller", "http://127.0.0.1:9", "--controller-token", "t", "--controller-heartbeat-ms", "100");

            Assert.Equal("saved-1", restarted.Services.GetRequiredService<ITrafficControl>().Current.ETag);
            await using var again = await new ConnectionFactory { Port = restarted.Port }.CreateConnectionAsync();
            await using var check = await again.CreateChannelAsync();
            Assert.Equal(1u, await check.MessageCountAsync(queue));
            Assert.Null(await check.BasicGetAsync(queue, autoAck: true));   // still paused: get-empty
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task An_embedded_controller_runs_in_the_gateway_process_and_its_pause_reaches_the_gateway()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            false, "--controller", "embedded", "--controller-token", "embedded-secret", "--controller-port", "0", "--controller-heartbeat-ms", "100");
        var embedded = gateway.Services.GetRequiredService<EmbeddedController>();
        using var controller = new Controller.Contracts.ControllerClient([embedded.Url], "embedded-secret");
        await using var connection = await new ConnectionFactory { Port = gateway.Port }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("embedded-paused", durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "embedded-paused", "held"u8.ToArray());
        await GatewayFixture.WaitUntilAsync(
            () => controller.GetNodesAsync().GetAwaiter().GetResult() is [{ Live: true }], TimeSpan.FromSeconds(15), "the gateway registered with its own controller");

        await controller.PauseAsync(new Controller.Contracts.PauseRequest("/", "embedded-paused"));
        var traffic = gateway.Services.GetRequiredService<ITrafficControl>();
        await GatewayFixture.WaitUntilAsync(() => traffic.Current.Pauses.Count == 1, TimeSpan.FromSeconds(5), "the pause applied");
        Assert.Null(await channel.BasicGetAsync("embedded-paused", autoAck: true));

        await controller.ResumeAsync("/", "embedded-paused");
        await GatewayFixture.WaitUntilAsync(() => traffic.Current.Pauses.Count == 0, TimeSpan.FromSeconds(5), "the resume applied");
        Assert.Equal("held", System.Text.Encoding.UTF8.GetString((await channel.BasicGetAsync("embedded-paused", autoAck: true))!.Body.Span));
    }

    [Fact]
    public async Task A_gateway_without_a_controller_runs_no_agent()
    {
        await using var gateway = await GatewayFixture.StartAsync();

        Assert.DoesNotContain(gateway.Services.GetServices<IHostedService>(), s => s is ControllerAgent);
    }

    [Theory]
    [InlineData("http://c1:15690", null, "--controller-token")]
    [InlineData("c1:15690", "secret", "--controller")]
    [InlineData(" , ", "secret", "--controller")]
    public void Wrong_controller_options_stop_the_gateway_at_start_with_a_clear_message(string controller, string? token, string named)
    {
        var options = new GatewayOptions { Controller = controller, ControllerToken = token };

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddControllerAgent(options, new GatewayListeners()));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Controller_switches_and_variables_are_read()
    {
        string[] args = ["--controller", "http://c1:15690,http://c2:15690", "--controller-token", "t0k", "--node-id", "gw-a", "--advertise", "gw-a.example:5672", "--controller-heartbeat-ms", "250"];
        var configuration = new ConfigurationBuilder()
            .AddCommandLine(args, GatewayApplication.SwitchMappings.ToDictionary(kv => kv.Key, kv => kv.Value))
            .Build();

        var options = GatewayApplication.ReadOptions(configuration);

        Assert.Equal("http://c1:15690,http://c2:15690", options.Controller);
        Assert.Equal("t0k", options.ControllerToken);
        Assert.Equal("gw-a", options.NodeId);
        Assert.Equal("gw-a.example:5672", options.Advertise);
        Assert.Equal(250, options.ControllerHeartbeatMs);
        Assert.Equal(1000, GatewayApplication.ReadOptions(new ConfigurationBuilder().Build()).ControllerHeartbeatMs);
        Assert.Null(GatewayApplication.ReadOptions(new ConfigurationBuilder().Build()).Controller);

        var fromEnvironment = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["CONTROLLER"] = "http://c3:15690", ["NODEID"] = "gw-env" })
            .Build();
        Assert.Equal(("http://c3:15690", "gw-env"), (GatewayApplication.ReadOptions(fromEnvironment).Controller, GatewayApplication.ReadOptions(fromEnvironment).NodeId));
    }

    [Fact]
    public void Identity_defaults_to_host_name_and_port_and_an_advertised_endpoint_wins()
    {
        string host = Dns.GetHostName();
        var startedAt = DateTimeOffset.UtcNow;

        var byDefault = ControllerAgentSetup.Describe(new GatewayOptions { Bind = "0.0.0.0", Port = 5800 }, new GatewayListeners(), startedAt);
        var bound = ControllerAgentSetup.Describe(new GatewayOptions { Bind = "10.1.2.3", Port = 5800 }, new GatewayListeners(), startedAt);
        var advertised = ControllerAgentSetup.Describe(
            new GatewayOptions { Bind = "0.0.0.0", Port = 5800, Advertise = "gw-a.example:5672", NodeId = "gw-a" }, new GatewayListeners(), startedAt);

        Assert.Equal(($"{host}:5800", $"{host}:5800"), (byDefault.NodeId, byDefault.AmqpEndpoint));
        Assert.Null(byDefault.MetricsUrl);   // metrics off
        Assert.Equal("10.1.2.3:5800", bound.AmqpEndpoint);
        Assert.Equal(("gw-a", "gw-a.example:5672"), (advertised.NodeId, advertised.AmqpEndpoint));
    }
}
