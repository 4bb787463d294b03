using System.Net;
using System.Text.Json;
using Controller.Contracts;
using TestSupport;

namespace Gwctl.Tests;

/// <summary>gwctl's controller commands end to end against an in-test controller: output, JSON and exit codes.</summary>
public sealed class GwctlCommandTests : IAsyncLifetime
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;
    private FakeController _controller = null!;

    public async Task InitializeAsync()
    {
        _controller = await FakeController.StartAsync();
        var now = DateTimeOffset.UtcNow;
        _controller.Nodes =
        [
            new NodeView("gw-a", "gw-a:5672", "http://gw-a:15692/metrics", true, now.AddMinutes(-5), now, true, 3, 4, 2, 2, 1234.56, 1200.04),
            new NodeView("gw-b", "gw-b:5672", null, false, now.AddMinutes(-9), now.AddMinutes(-1), false, 0, 0, 0, 0, 0, 0),
        ];
        _controller.Queues =
        [
            new QueueView("/", "orders", ["gw-a"], 120, 7, 2, 55.55, 50, 49.94, 0.25, true, 2, null),
            new QueueView("/", "invoices", ["gw-a", "gw-b"], 3, 0, 4, 1, 1, 1, 0, false, 1, 20),
            new QueueView("billing", "orders.retry.with-a-rather-long-name-that-must-not-wrap-in-a-pipe.0123456789", [], 0, 0, 0, 0, 0, 0, 0, false, 0, null),
            new QueueView("billing", "[bracketed]", [], 0, 0, 0, 0, 0, 0, 0, false, 0, null),
        ];
        _controller.Consumers =
        [
            new ConsumerView("gw-a", "/", "orders", "ctag-1", "10.1.2.3", "billing-worker", 1, 10, 3, 25.04, true),
            new ConsumerView("gw-a", "/", "invoices", "ctag-2", "10.1.2.4", null, 2, 50, 0, 1, false),
            new ConsumerView("gw-b", "other", "orders", "ctag-3", "10.9.9.9", null, 1, 1, 0, 0, false),
        ];
    }

    public async Task DisposeAsync() => await _controller.DisposeAsync();

    private Task<GwctlRun> GwctlAsync(params string[] args) =>
        GwctlRun.InvokeAsync([.. args, "--controller", _controller.Url.ToString(), "--token", _controller.Token]);

    [Fact]
    public async Task Nodes_are_a_table_with_rates_to_one_decimal_and_no_terminal_codes()
    {
        var run = await GwctlAsync("nodes");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Node", "AMQP endpoint", "State", "In sync", "Last seen", "Connections", "Channels", "Queues", "Consumers", "Publish/s", "Deliver/s"], run.Rows[0]);
        var a = run.Row("gw-a");
        Assert.Equal(["gw-a", "gw-a:5672", "live", "yes"], a[..4]);
        Assert.Equal(["3", "4", "2", "2", "1234.6", "1200.0"], a[5..]);
        Assert.Equal(["gw-b", "gw-b:5672", "lost", "no"], run.Row("gw-b")[..4]);
        Assert.DoesNotContain('\u001b', run.Out);
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task Queues_show_rates_pauses_and_limits_and_long_or_bracketed_names_stay_whole()
    {
        var run = await GwctlAsync("queues");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["/", "orders", "120", "7", "2", "55.6", "50.0", "49.9", "0.3", "yes", "no", "gw-a"], run.Row("orders"));
        Assert.Equal(["/", "invoices", "3", "0", "4", "1.0", "1.0", "1.0", "0.0", "1 of 4 consumers", "20.0 msg/s", "gw-a,gw-b"], run.Row("invoices"));
        run.Row("orders.retry.with-a-rather-long-name-that-must-not-wrap-in-a-pipe.0123456789");
        run.Row("[bracketed]");

        var billing = await GwctlAsync("queues", "--vhost", "billing");
        Assert.Equal(3, billing.Rows.Count);   // header and two queues
        Assert.DoesNotContain(billing.Rows, row => row.Contains("invoices"));
    }

    [Fact]
    public async Task Consumers_are_listed_and_filtered_by_vhost_and_queue()
    {
        var run = await GwctlAsync("consumers", "--vhost", "/", "--queue", "orders");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, run.Rows.Count);
        Assert.Equal(["gw-a", "/", "orders", "ctag-1", "10.1.2.3", "billing-worker", "1", "10", "3", "25.0", "yes"], run.Row("ctag-1"));
    }

    [Fact]
    public async Task Json_output_is_the_controllers_records()
    {
        var nodes = JsonSerializer.Deserialize((await GwctlAsync("nodes", "--json")).Out, Json.NodeViewArray)!;
        var queues = JsonSerializer.Deserialize((await GwctlAsync("queues", "--json", "--vhost", "/")).Out, Json.QueueViewArray)!;
        var consumers = JsonSerializer.Deserialize((await GwctlAsync("consumers", "--json", "--queue", "invoices")).Out, Json.ConsumerViewArray)!;
        await GwctlAsync("pause", "orders");
        var status = JsonSerializer.Deserialize((await GwctlAsync("status", "--json")).Out, Json.ControllerStatus)!;

        Assert.Equal(["gw-a", "gw-b"], nodes.Select(n => n.NodeId));
        Assert.Equal(1234.56, nodes[0].PublishRate);
        Assert.Equal(["invoices", "orders"], queues.Select(q => q.Queue));
        Assert.Equal("ctag-2", Assert.Single(consumers).ConsumerTag);
        Assert.Equal(_controller.Id, status.ControllerId);
        Assert.Equal("orders", Assert.Single(status.Pauses).Queue);
    }

    [Fact]
    public async Task Status_shows_the_leader_epoch_lease_nodes_and_the_rules_in_force()
    {
        await GwctlAsync("pause", "orders", "--client-address", "10.1.0.0/16");
        await GwctlAsync("throttle", "invoices", "--rate", "25");
        await GwctlAsync("throttle-publish", "--vhost", "/", "--exchange", "", "--rate", "500");

        var run = await GwctlAsync("status");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains($"Controller     {_controller.Id} (leader)", run.Out, StringComparison.Ordinal);
        Assert.Contains("Epoch          3", run.Out, StringComparison.Ordinal);
        Assert.Contains("Nodes          1 live, 1 lost", run.Out, StringComparison.Ordinal);
        Assert.Contains("Rules          1 pause, 1 consume limit, 1 publish limit", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"Lease expires  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in \d+\.\d s\)", run.Out);
        Assert.Equal(["/", "orders", "10.1.0.0/16", "(any)"], run.Row("orders", "10.1.0.0/16")[..4]);
        Assert.Equal(["/", "invoices", "25.0"], run.Row("invoices"));
        Assert.Equal(["/", "(default)", "500.0"], run.Row("(default)"));
    }

    [Fact]
    public async Task Pause_and_resume_change_the_controllers_rules_and_a_second_resume_has_nothing_to_do()
    {
        var pause = await GwctlAsync("pause", "orders", "--vhost", "/", "--connection-name", "billing-worker");
        Assert.Equal(0, pause.ExitCode);
        Assert.StartsWith("paused queue 'orders' in vhost '/' for connections named 'billing-worker'", pause.Out, StringComparison.Ordinal);
        var rule = Assert.Single(_controller.Pauses);
        Assert.Equal(("/", "orders", "billing-worker", (string?)null), (rule.VHost, rule.Queue, rule.ConnectionName, rule.ClientAddress));

        var resume = await GwctlAsync("resume", "orders");
        Assert.Equal(0, resume.ExitCode);
        Assert.Contains("1 pause rule removed", resume.Out, StringComparison.Ordinal);
        Assert.Empty(_controller.Pauses);

        var again = await GwctlAsync("resume", "orders");
        Assert.Equal(3, again.ExitCode);
        Assert.StartsWith("gwctl: nothing matched", again.Error, StringComparison.Ordinal);
        Assert.Single(again.Error.Trim().Split('\n'));
        Assert.Empty(again.Out);
    }

    [Fact]
    public async Task Throttle_and_unthrottle_set_and_remove_a_consume_limit()
    {
        var throttle = await GwctlAsync("throttle", "orders", "--rate", "12.5");
        Assert.Equal(0, throttle.ExitCode);
        Assert.Equal(new ConsumeLimit("/", "orders", 12.5), Assert.Single(_controller.ConsumeLimits));
        Assert.Contains("12.5 msg/s", throttle.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await GwctlAsync("unthrottle", "orders")).ExitCode);
        Assert.Empty(_controller.ConsumeLimits);
        Assert.Equal(3, (await GwctlAsync("unthrottle", "orders")).ExitCode);
    }

    [Fact]
    public async Task Throttle_publish_and_unthrottle_publish_set_and_remove_a_publish_limit()
    {
        Assert.Equal(0, (await GwctlAsync("throttle-publish", "--vhost", "billing", "--rate", "100")).ExitCode);
        Assert.Equal(0, (await GwctlAsync("throttle-publish", "--vhost", "billing", "--exchange", "invoices", "--rate", "10")).ExitCode);
        Assert.Equal(
            [new PublishLimit("billing", null, 100), new PublishLimit("billing", "invoices", 10)],
            _controller.PublishLimits.OrderBy(l => l.Exchange, StringComparer.Ordinal));

        var removed = await GwctlAsync("unthrottle-publish", "--vhost", "billing", "--exchange", "invoices");
        Assert.Equal(0, removed.ExitCode);
        Assert.Equal(new PublishLimit("billing", null, 100), Assert.Single(_controller.PublishLimits));
        Assert.Equal(3, (await GwctlAsync("unthrottle-publish", "--vhost", "billing", "--exchange", "invoices")).ExitCode);
    }

    [Fact]
    public async Task A_pause_reaches_the_state_gateways_poll()
    {
        await GwctlAsync("pause", "orders");

        Assert.Equal("orders", Assert.Single(_controller.State.Pauses).Queue);
    }

    [Theory]
    [InlineData("pause")]                                           // the queue is missing
    [InlineData("throttle", "orders")]                              // --rate is required
    [InlineData("throttle", "orders", "--rate", "0")]
    [InlineData("throttle", "orders", "--rate", "fast")]
    [InlineData("throttle-publish", "--rate", "5")]                 // --vhost is required
    [InlineData("pause", "orders", "--client-address", "10.1.0.0/99")]
    [InlineData("queues", "--no-such-option")]
    [InlineData("no-such-command")]
    public async Task A_wrong_command_line_exits_with_2_and_one_line_on_stderr(params string[] args)
    {
        var run = await GwctlAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("gwctl: ", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
        Assert.Empty(_controller.Pauses);
    }

    [Fact]
    public async Task A_request_the_controller_refuses_as_invalid_exits_with_2()
    {
        var run = await GwctlAsync("pause", "");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("a pause needs a vhost and a queue", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_or_missing_controller_url_or_token_is_a_usage_error()
    {
        var badUrl = await GwctlRun.InvokeAsync("status", "--controller", "ftp://c1", "--token", "x");
        var noToken = await GwctlRun.InvokeAsync("status", "--controller", _controller.Url.ToString());

        Assert.Equal((2, 2), (badUrl.ExitCode, noToken.ExitCode));
        Assert.Contains("--controller", badUrl.Error, StringComparison.Ordinal);
        Assert.Contains("GWCTL_TOKEN", noToken.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_token_exits_with_4()
    {
        var run = await GwctlRun.InvokeAsync("queues", "--controller", _controller.Url.ToString(), "--token", "wrong");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("401", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_controller_or_a_server_error_exits_with_1()
    {
        var gone = await FakeController.StartAsync("gone");
        var goneUrl = gone.Url.ToString();
        await gone.DisposeAsync();

        var unreachable = await GwctlRun.InvokeAsync("status", "--controller", goneUrl, "--token", "x");
        _controller.FailWith = HttpStatusCode.InternalServerError;
        var failing = await GwctlAsync("pause", "orders");

        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("gwctl: no controller leader reachable", unreachable.Error, StringComparison.Ordinal);
        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("500", failing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_standby_first_in_the_list_hands_the_command_to_the_leader()
    {
        await using var standby = await FakeController.StartAsync("standby", _controller.Token);
        standby.StandbyOf = _controller;

        var run = await GwctlRun.InvokeAsync("pause", "orders", "--controller", $"{standby.Url},{_controller.Url}", "--token", _controller.Token);

        Assert.Equal(0, run.ExitCode);
        Assert.Single(_controller.Pauses);
    }

    [Fact]
    public async Task A_standby_naming_a_leader_url_this_host_cannot_reach_does_not_stop_the_next_url_being_tried()
    {
        await using var standby = await FakeController.StartAsync("standby", _controller.Token);
        standby.StandbyOf = _controller;
        // As in docker-compose: the standby names the leader by a container address; gwctl on the host lists the published ports.
        standby.AdvertisedLeaderUrl = new Uri("http://127.0.0.1:9/");

        var run = await GwctlRun.InvokeAsync("pause", "orders", "--controller", $"{standby.Url},{_controller.Url}", "--token", _controller.Token);

        Assert.Equal(0, run.ExitCode);
        Assert.Single(_controller.Pauses);
    }

    [Fact]
    public async Task The_controller_and_token_come_from_GWCTL_variables_when_not_given()
    {
        Environment.SetEnvironmentVariable("GWCTL_CONTROLLER", _controller.Url.ToString());
        Environment.SetEnvironmentVariable("GWCTL_TOKEN", _controller.Token);
        try
        {
            var run = await GwctlRun.InvokeAsync("nodes");

            Assert.Equal(0, run.ExitCode);
            run.Row("gw-a");
        }
        finally
        {
            Environment.SetEnvironmentVariable("GWCTL_CONTROLLER", null);
            Environment.SetEnvironmentVariable("GWCTL_TOKEN", null);
        }
    }
}
