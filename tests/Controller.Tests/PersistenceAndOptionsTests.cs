using System.Net;
using Controller.Contracts;
using Controller.Service.Cli;
using Controller.Service.Hosting;
using Controller.Service.Store;
using Controller.Tests.Support;

namespace Controller.Tests;

/// <summary>State that outlives an instance on SQLite, and the options from switches and CONTROLLER_* variables.</summary>
public sealed class PersistenceAndOptionsTests : IDisposable
{
    private readonly SqliteDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Rules_and_nodes_survive_a_restart_and_the_next_term_has_a_higher_epoch()
    {
        long epoch;
        string etag;
        await using (var first = await ControllerServer.StartLeaderAsync(_database.Select))
        {
            await first.Client.PauseAsync(new PauseRequest("v", "q", null, "reporting"));
            await first.Client.SetConsumeLimitAsync(new ConsumeLimit("v", "q", 12));
            await first.Client.SetPublishLimitAsync(new PublishLimit("v", null, 34));
            await first.Client.HeartbeatAsync(Reports.Node("gw-1", [Reports.Queue("v", "q", consumers: 2)]));
            etag = (await first.Client.GetStateAsync("gw-1", null, TimeSpan.Zero))!.ETag;
            epoch = (await first.Client.GetStatusAsync()).Epoch;
        }

        await using var second = await ControllerServer.StartLeaderAsync(_database.Select);
        var status = await second.Client.GetStatusAsync();
        Assert.True(status.Epoch > epoch);
        Assert.Equal(("v", "q", "reporting"), (status.Pauses.Single().VHost, status.Pauses.Single().Queue, status.Pauses.Single().ConnectionName));
        Assert.Equal([new ConsumeLimit("v", "q", 12)], status.ConsumeLimits);
        Assert.Equal([new PublishLimit("v", null, 34)], status.PublishLimits);
        Assert.Equal("gw-1", Assert.Single(await second.Client.GetNodesAsync()).NodeId);
        Assert.Equal(etag, (await second.Client.GetStateAsync("gw-1", null, TimeSpan.Zero))!.ETag);
    }

    [Fact]
    public async Task A_stored_report_that_cannot_be_loaded_does_not_stop_the_next_controller_from_leading()
    {
        await using (var first = await ControllerServer.StartLeaderAsync(_database.Select))
        {
            await first.Client.SetConsumeLimitAsync(new ConsumeLimit("v", "q", 12));
            await first.Client.HeartbeatAsync(Reports.Node("good", [Reports.Queue("v", "q", consumers: 1)]));
            // Rows as an unchecked heartbeat (or another version, or a hand edit) left them: the JSON reads, but
            // the share rule cannot count it, or it does not read at all.
            var store = first.Service<ControllerStore>();
            foreach (var (node, report) in new[]
            {
                ("null-queue", """{"nodeId":"null-queue","queues":[null]}"""),
                ("no-vhost", """{"nodeId":"no-vhost","publishing":[{"exchange":"x","publishRate":1}]}"""),
                ("garbage", "{not json"),
            })
            {
                await store.SaveNodeAsync(
                    new NodeRow { NodeId = node, AmqpEndpoint = node + ":5672", StartedAt = Reports.Started, LastSeen = DateTimeOffset.UtcNow, LastReport = report },
                    CancellationToken.None);
            }
        }

        await using var second = await ControllerServer.StartLeaderAsync(_database.Select);

        Assert.Equal(["garbage", "good", "no-vhost", "null-queue"], (await second.Client.GetNodesAsync()).Select(n => n.NodeId));
        Assert.Equal(0, (await second.Client.GetNodesAsync()).Single(n => n.NodeId == "null-queue").Queues);
        Assert.Equal(12, (await second.Client.GetStateAsync("good", null, TimeSpan.Zero))!.ConsumeLimits.Single().SharePerSecond);
        Assert.True(second.Logs.Contains("Gateway node null-queue: its stored report cannot be used"), second.Logs.AllText);
        Assert.False(second.Logs.Contains("could not load the state"), second.Logs.AllText);
    }

    [Fact]
    public async Task A_controller_without_a_token_does_not_start()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ControllerApp.CreateAsync(_database.Select(new ControllerOptions { Port = 0 })));
        Assert.Contains("token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executable_without_a_token_says_so_and_exits_with_2()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ControllerApp).Assembly.Location);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        start.ArgumentList.Add("--sqlite");
        start.ArgumentList.Add(_database.FilePath);
        start.Environment.Remove("CONTROLLER_TOKEN");
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("token is required", await error, StringComparison.Ordinal);
    }

    [Fact]
    public void Switches_win_over_environment_variables_which_win_over_defaults()
    {
        var environment = new Dictionary<string, string>
        {
            ["CONTROLLER_PORT"] = "0",
            ["CONTROLLER_TOKEN"] = "from-env",
            ["CONTROLLER_LEASE_SECONDS"] = "2.5",
            ["CONTROLLER_NODE_TIMEOUT_SECONDS"] = "7",
            ["CONTROLLER_DATABASE"] = "Host=db;Database=metadata",
            ["CONTROLLER_INSTANCE_ID"] = "ctl-env",
        };
        var parse = ControllerCommandLine.Build().Parse(["--token", "from-switch", "--advertise-url", "http://ctl-a:15690", "--bind", "10.0.0.5"]);

        var options = ControllerCommandLine.Options(parse, name => environment.GetValueOrDefault(name));

        Assert.Equal("from-switch", options.Token);
        Assert.Equal(0, options.Port);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(7), options.NodeTimeout);
        Assert.True(options.UsesPostgres);
        Assert.Equal("ctl-env", options.EffectiveInstanceId);
        Assert.Equal("http://ctl-a:15690", options.EffectiveAdvertiseUrl(1234));

        var defaults = ControllerCommandLine.Options(ControllerCommandLine.Build().Parse([]), _ => null);
        Assert.Equal((ControllerRoutes.DefaultPort, "0.0.0.0", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)), (defaults.Port, defaults.Bind, defaults.LeaseDuration, defaults.NodeTimeout));
        Assert.Equal(Path.Combine("data", "controller.db"), defaults.SqlitePath);
        Assert.Equal("http://127.0.0.1:15690", defaults.EffectiveAdvertiseUrl(15690));
        Assert.Equal("http://10.0.0.5:99", (defaults with { Bind = "10.0.0.5" }).EffectiveAdvertiseUrl(99));
        Assert.Throws<ArgumentException>(() => ControllerCommandLine.Options(ControllerCommandLine.Build().Parse(["--lease-seconds", "-1"]), _ => null));
        Assert.Throws<FormatException>(() => ControllerCommandLine.Options(ControllerCommandLine.Build().Parse([]), n => n == "CONTROLLER_PORT" ? "http" : null));
    }

    [Fact]
    public async Task Advertised_url_defaults_to_the_bound_port()
    {
        await using var server = await ControllerServer.StartLeaderAsync(_database.Select);
        using var anonymous = server.CreateHttpClient(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri(ControllerRoutes.Health, UriKind.Relative))).StatusCode);
        Assert.Equal(server.BaseAddress.ToString().TrimEnd('/'), server.Leadership.AdvertiseUrl);
    }
}
