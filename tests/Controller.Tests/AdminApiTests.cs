using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Controller.Contracts;
using Controller.Tests.Support;
using TestSupport;

namespace Controller.Tests;

/// <summary>The operators' routes, as ControllerRoutes documents them, including validation and 404s.</summary>
public abstract class AdminApiTests(ITestDatabase database) : ControllerTest(database)
{
    [Fact]
    public async Task Every_api_route_needs_the_token_but_health_and_metrics_do_not()
    {
        using var anonymous = Server.CreateHttpClient(null);
        using var wrong = Server.CreateHttpClient("not-the-token");
        string[] routes = [ControllerRoutes.Status, ControllerRoutes.Nodes, ControllerRoutes.Queues, ControllerRoutes.Consumers,
            ControllerRoutes.Pauses, ControllerRoutes.ConsumeLimits, ControllerRoutes.PublishLimits, ControllerRoutes.GatewayState + "?node=a"];
        foreach (var route in routes)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(route, UriKind.Relative))).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(new Uri(route, UriKind.Relative))).StatusCode);
        }

        using var heartbeat = await anonymous.PostAsJsonAsync(ControllerRoutes.Heartbeat, Reports.Node("a"), ControllerJsonContext.Default.GatewayReport);
        Assert.Equal(HttpStatusCode.Unauthorized, heartbeat.StatusCode);
        Assert.Empty(await Server.Client.GetNodesAsync());

        using var health = await anonymous.GetAsync(new Uri(ControllerRoutes.Health, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("leader", JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri(ControllerRoutes.Metrics, UriKind.Relative))).StatusCode);
        Assert.True(Server.Logs.Contains("wrong token"), Server.Logs.AllText);
    }

    [Fact]
    public async Task Pause_creates_once_and_returns_the_existing_rule_for_the_same_scope()
    {
        using var first = await PostPauseAsync(new PauseRequest("/", "orders"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var rule = (await first.Content.ReadFromJsonAsync(ControllerJsonContext.Default.PauseRule))!;
        using var again = await PostPauseAsync(new PauseRequest("/", "orders"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(rule, await again.Content.ReadFromJsonAsync(ControllerJsonContext.Default.PauseRule));

        // Another scope of the same queue is another rule; the address is kept in canonical form.
        var scoped = await Server.Client.PauseAsync(new PauseRequest("/", "orders", "2001:DB8::/32", "billing"));
        Assert.NotEqual(rule.Id, scoped.Id);
        Assert.Equal("2001:db8::/32", scoped.ClientAddress);
        Assert.Equal(scoped, await Server.Client.PauseAsync(new PauseRequest("/", "orders", "2001:db8::/32", "billing")));
        Assert.Equal(2, (await Server.Client.GetPausesAsync()).Length);
        Assert.True(Server.Logs.Contains("paused queue 'orders' in vhost '/'"), Server.Logs.AllText);
        Assert.True(Server.Logs.Contains("Admin change from 127.0.0.1"), Server.Logs.AllText);
    }

    [Theory]
    [InlineData("""{"vhost":"","queue":"orders"}""", "vhost")]
    [InlineData("""{"vhost":"/","queue":""}""", "queue")]
    [InlineData("""{"vhost":"/"}""", "queue")]
    [InlineData("""{"vhost":"/","queue":"orders","clientAddress":"app-host-1"}""", "neither an IP address nor a CIDR block")]
    [InlineData("""{"vhost":"/","queue":"orders","clientAddress":"10.0.0.1/40"}""", "neither an IP address nor a CIDR block")]
    [InlineData("""{"vhost":"/","queue":""" + "\"orders\"", "")]
    [InlineData("""[1,2,3]""", "")]
    [InlineData("""null""", "")]
    public async Task Bad_pause_requests_are_400_with_a_detail_and_change_nothing(string body, string detail)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Server.Http.PostAsync(new Uri(ControllerRoutes.Pauses, UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync(ControllerJsonContext.Default.ControllerProblem);
        Assert.Contains(detail, problem!.Detail, StringComparison.Ordinal);
        Assert.Empty(await Server.Client.GetPausesAsync());
    }

    [Fact]
    public async Task Resume_without_scope_removes_every_rule_of_the_queue_and_with_one_only_that_scope()
    {
        await Server.Client.PauseAsync(new PauseRequest("/", "orders"));
        await Server.Client.PauseAsync(new PauseRequest("/", "orders", "10.1.0.0/16"));
        await Server.Client.PauseAsync(new PauseRequest("/", "orders", "10.1.0.0/16", "billing"));
        await Server.Client.PauseAsync(new PauseRequest("/", "orders", null, "billing"));
        await Server.Client.PauseAsync(new PauseRequest("/", "invoices"));

        // Every given scope field must match: the address alone takes both rules at that address.
        Assert.Equal(2, await Server.Client.ResumeAsync("/", "orders", clientAddress: "10.1.0.0/16"));
        Assert.Equal(1, await Server.Client.ResumeAsync("/", "orders", connectionName: "billing"));
        var error = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.ResumeAsync("/", "orders", connectionName: "billing"));
        Assert.Equal(HttpStatusCode.NotFound, error.Status);
        Assert.Equal(1, await Server.Client.ResumeAsync("/", "orders"));
        Assert.Equal("invoices", Assert.Single(await Server.Client.GetPausesAsync()).Queue);

        var none = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.ResumeAsync("/", "orders"));
        Assert.Equal(HttpStatusCode.NotFound, none.Status);
        Assert.True(Server.Logs.Contains("resumed queue 'orders' in vhost '/'"), Server.Logs.AllText);
    }

    [Theory]
    [InlineData("?queue=orders")]
    [InlineData("?vhost=&queue=orders")]
    [InlineData("?vhost=%2F")]
    [InlineData("?vhost=%2F&queue=orders&clientAddress=not-an-ip")]
    public async Task Bad_resume_requests_are_400(string query)
    {
        await Server.Client.PauseAsync(new PauseRequest("/", "orders"));
        using var response = await Server.Http.DeleteAsync(new Uri(ControllerRoutes.Pauses + query, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(await Server.Client.GetPausesAsync());
    }

    [Fact]
    public async Task Consume_limits_are_set_changed_listed_and_removed()
    {
        using var created = await Server.Http.PutAsJsonAsync(ControllerRoutes.ConsumeLimits, new ConsumeLimit("/", "orders", 100), ControllerJsonContext.Default.ConsumeLimit);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(new ConsumeLimit("/", "orders", 250.5), await Server.Client.SetConsumeLimitAsync(new ConsumeLimit("/", "orders", 250.5)));
        await Server.Client.SetConsumeLimitAsync(new ConsumeLimit("other", "orders", 7));

        Assert.Equal([new ConsumeLimit("/", "orders", 250.5), new ConsumeLimit("other", "orders", 7)], await Server.Client.GetConsumeLimitsAsync());
        Assert.Equal(1, await Server.Client.RemoveConsumeLimitAsync("/", "orders"));
        var missing = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.RemoveConsumeLimitAsync("/", "orders"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal([new ConsumeLimit("other", "orders", 7)], await Server.Client.GetConsumeLimitsAsync());
        Assert.True(Server.Logs.Contains("consume limit of queue 'orders' in vhost '/' set to 250.5/s"), Server.Logs.AllText);
    }

    [Theory]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":0}""", "greater than 0")]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":-5}""", "greater than 0")]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":"NaN"}""", "")]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":1e400}""", "")]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":1000000001}""", "at most 1e9")]
    [InlineData("""{"vhost":"/","queue":"orders","messagesPerSecond":1e308}""", "at most 1e9")]
    [InlineData("""{"vhost":"","queue":"orders","messagesPerSecond":5}""", "vhost")]
    [InlineData("""{"vhost":"/","messagesPerSecond":5}""", "queue")]
    public async Task Bad_consume_limits_are_400(string body, string detail)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Server.Http.PutAsync(new Uri(ControllerRoutes.ConsumeLimits, UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, (await response.Content.ReadFromJsonAsync(ControllerJsonContext.Default.ControllerProblem))!.Detail, StringComparison.Ordinal);
        Assert.Empty(await Server.Client.GetConsumeLimitsAsync());
    }

    [Fact]
    public async Task Publish_limits_tell_the_whole_vhost_from_the_default_exchange_and_named_exchanges()
    {
        await Server.Client.SetPublishLimitAsync(new PublishLimit("/", null, 1000));
        await Server.Client.SetPublishLimitAsync(new PublishLimit("/", "", 100));
        await Server.Client.SetPublishLimitAsync(new PublishLimit("/", "orders", 10));
        await Server.Client.SetPublishLimitAsync(new PublishLimit("/", "orders", 20));

        Assert.Equal(
            [new PublishLimit("/", null, 1000), new PublishLimit("/", "", 100), new PublishLimit("/", "orders", 20)],
            await Server.Client.GetPublishLimitsAsync());
        Assert.Equal(1, await Server.Client.RemovePublishLimitAsync("/", ""));
        Assert.Equal(1, await Server.Client.RemovePublishLimitAsync("/"));
        var missing = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.RemovePublishLimitAsync("/"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal([new PublishLimit("/", "orders", 20)], await Server.Client.GetPublishLimitsAsync());

        var bad = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.SetPublishLimitAsync(new PublishLimit("/", null, 0)));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        var huge = await Assert.ThrowsAsync<ControllerException>(() => Server.Client.SetPublishLimitAsync(new PublishLimit("/", null, 1e308)));
        Assert.Equal(HttpStatusCode.BadRequest, huge.Status);
        Assert.Contains("at most 1e9", huge.Message, StringComparison.Ordinal);
        // The cap itself is allowed.
        await Server.Client.SetPublishLimitAsync(new PublishLimit("/", "capped", 1e9));
        await Server.Client.RemovePublishLimitAsync("/", "capped");
        using var noVhost = await Server.Http.DeleteAsync(new Uri(ControllerRoutes.PublishLimits + "?exchange=orders", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, noVhost.StatusCode);
    }

    [Fact]
    public async Task A_json_body_sent_as_a_form_as_curl_does_by_default_is_read_as_json()
    {
        using var content = new StringContent("""{"vhost":"/","queue":"orders","messagesPerSecond":3}""", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await Server.Http.PutAsync(new Uri(ControllerRoutes.ConsumeLimits, UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal([new ConsumeLimit("/", "orders", 3)], await Server.Client.GetConsumeLimitsAsync());
    }

    [Fact]
    public async Task Status_lists_this_leader_and_the_rules()
    {
        await Server.Client.PauseAsync(new PauseRequest("/", "orders"));
        await Server.Client.SetConsumeLimitAsync(new ConsumeLimit("/", "orders", 5));

        var status = await Server.Client.GetStatusAsync();

        Assert.Equal(Server.InstanceId, status.ControllerId);
        Assert.True(status.IsLeader);
        Assert.Equal(Server.InstanceId, status.LeaderId);
        Assert.Equal(Server.BaseAddress.ToString().TrimEnd('/'), status.LeaderUrl);
        Assert.True(status.Epoch >= 1);
        Assert.Single(status.Pauses);
        Assert.Single(status.ConsumeLimits);
        Assert.Empty(status.PublishLimits);
    }

    private Task<HttpResponseMessage> PostPauseAsync(PauseRequest request) =>
        Server.Http.PostAsJsonAsync(ControllerRoutes.Pauses, request, ControllerJsonContext.Default.PauseRequest);
}

public sealed class SqliteAdminApiTests() : AdminApiTests(new SqliteDatabase());

[Collection(PostgresCollection.Name)]
public sealed class PostgresAdminApiTests(PostgresFixture postgres) : AdminApiTests(new PostgresDatabase(postgres));
