using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MetaService.Api.Hosting;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;

namespace MetaService.Api.Tests;

/// <summary>What the HTTP API adds to the store: list views, passwords, problem bodies, definitions.</summary>
public sealed class ApiEndpointTests : SqliteServiceTest
{
    private HttpClient _http = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _http = Server.CreateHttpClient(ApiServer.Token);
    }

    public override async Task DisposeAsync()
    {
        _http.Dispose();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Put_user_with_a_password_stores_only_a_RabbitMQ_hash()
    {
        var response = await PutJsonAsync("api/users/dave", """{"password": "hunter2", "tags": "administrator,monitoring"}""");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var stored = await Embedded.GetUserAsync("dave");
        Assert.NotNull(stored);
        Assert.Equal(RabbitPasswordHashing.Sha256, stored.HashingAlgorithm);
        Assert.True(RabbitPasswordHashing.Verify("hunter2", stored.PasswordHash, stored.HashingAlgorithm));
        Assert.Equal(["administrator", "monitoring"], stored.Tags);

        // The typed client's helper does the same.
        await Server.Client.PutUserWithPasswordAsync("erin", "correct horse", ["management"]);
        var erin = await Embedded.GetUserAsync("erin");
        Assert.True(RabbitPasswordHashing.Verify("correct horse", erin!.PasswordHash, erin.HashingAlgorithm));
    }

    [Fact]
    public async Task Put_user_with_a_hash_keeps_it_as_given()
    {
        var hash = RabbitPasswordHashing.Hash("pw", RabbitPasswordHashing.Sha512);
        var body = $$"""{"password_hash": "{{hash}}", "hashing_algorithm": "{{RabbitPasswordHashing.Sha512}}", "tags": ["monitoring"]}""";
        Assert.Equal(HttpStatusCode.NoContent, (await PutJsonAsync("api/users/frank", body)).StatusCode);
        var stored = await Embedded.GetUserAsync("frank");
        Assert.Equal(hash, stored!.PasswordHash);
        Assert.Equal(RabbitPasswordHashing.Sha512, stored.HashingAlgorithm);
    }

    [Theory]
    [InlineData("""{"tags": []}""")]
    [InlineData("""{"password": "a", "password_hash": ""}""")]
    [InlineData("""{"password": "a", "hashing_algorithm": "rabbit_password_hashing_md5"}""")]
    [InlineData("""{"password_hash": "not base64!", "hashing_algorithm": "rabbit_password_hashing_sha256"}""")]
    [InlineData("""{"password_hash": "AAAAAAAA", "hashing_algorithm": "rot13"}""")]
    [InlineData("""{"password": 42}""")]
    [InlineData("""not json""")]
    [InlineData("")]
    public async Task Bad_user_bodies_are_400_without_a_reply_code(string body)
    {
        var response = await PutJsonAsync("api/users/gina", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.False(problem!.ContainsKey("replyCode"));
        Assert.Null(await Embedded.GetUserAsync("gina"));
    }

    [Fact]
    public async Task Users_api_shows_neither_passwords_nor_hashes()
    {
        await PutJsonAsync("api/users/hank", """{"password": "p4ssw0rd-hank"}""");
        var hash = (await Embedded.GetUserAsync("hank"))!.PasswordHash;
        foreach (var path in new[] { "api/users", "api/users/hank" })
        {
            var text = await _http.GetStringAsync(new Uri(path, UriKind.Relative));
            Assert.Contains("hank", text, StringComparison.Ordinal);
            Assert.DoesNotContain("p4ssw0rd-hank", text, StringComparison.Ordinal);
            Assert.DoesNotContain(hash, text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"password_hash\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Vhost_put_needs_no_body()
    {
        var response = await _http.PutAsync(new Uri("api/vhosts/bare", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.NotNull(await Embedded.GetVirtualHostAsync("bare"));
    }

    [Fact]
    public async Task Passive_declares_need_no_body()
    {
        await Embedded.DeclareQueueAsync(new QueueRecord("/", "pq", true, false, []), false);
        var queue = await _http.PutAsync(new Uri("api/queues/%2F/pq?passive=true", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        var exchange = await _http.PutAsync(new Uri("api/exchanges/%2F/amq.topic?passive=true", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
        var missing = await _http.PutAsync(new Uri("api/queues/%2F/nope?passive=true", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task List_views_filter_by_vhost()
    {
        await Embedded.PutVirtualHostAsync(new VirtualHostRecord("other"));
        await Embedded.DeclareQueueAsync(new QueueRecord("/", "root-q", true, false, []), false);
        await Embedded.DeclareQueueAsync(new QueueRecord("other", "other-q", true, false, []), false);
        await Embedded.BindAsync(new BindingRecord("other", "amq.direct", "other-q", BindingDestinationType.Queue, "k", []));
        await Embedded.PutPolicyAsync(new PolicyRecord("other", "p", ".*", "all", 0, []));

        var queues = await GetAsync<JsonArray>("api/queues?vhost=other");
        Assert.Equal(["other-q"], queues.Select(q => q!["name"]!.GetValue<string>()));
        Assert.Equal(2, (await GetAsync<JsonArray>("api/queues")).Count);
        Assert.All(await GetAsync<JsonArray>("api/exchanges?vhost=other"), e => Assert.Equal("other", e!["virtual_host"]!.GetValue<string>()));
        var binding = Assert.Single(await GetAsync<JsonArray>("api/bindings?vhost=other"));
        Assert.Equal("queue", binding!["destination_type"]!.GetValue<string>());
        Assert.Single(await GetAsync<JsonArray>("api/policies?vhost=other"));
        Assert.Equal("p", (await GetAsync<JsonObject>("api/policies/other/p"))["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri("api/policies/other/none", UriKind.Relative))).StatusCode);
    }

    public static TheoryData<string, string, HttpStatusCode, int> Refusals => new()
    {
        { "api/queues/%2F/amq.q", """{"durable": true}""", HttpStatusCode.Forbidden, 403 },
        { "api/queues/no-vhost/q", """{"durable": true}""", HttpStatusCode.NotFound, 404 },
        { "api/queues/%2F/excl", """{"durable": false, "exclusive_owner": "other-connection"}""", HttpStatusCode.Locked, 405 },
        { "api/queues/%2F/durable", """{"durable": false}""", HttpStatusCode.Conflict, 406 },
        { "api/exchanges/%2F/x", """{"type": "x-no-such-type"}""", HttpStatusCode.BadRequest, 503 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusals_map_to_http_statuses_and_keep_code_and_text(string path, string body, HttpStatusCode status, int replyCode)
    {
        await Embedded.DeclareQueueAsync(new QueueRecord("/", "durable", true, false, []), false);
        await Embedded.DeclareQueueAsync(new QueueRecord("/", "excl", false, false, [], ExclusiveOwner: "connection-1"), false);

        var response = await PutJsonAsync(path, body);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(replyCode, problem["replyCode"]!.GetValue<int>());
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());

        // The same request through the typed client: the same exception as the store throws in-process.
        var segments = path.Split('/');
        var vhost = Uri.UnescapeDataString(segments[2]);
        var remote = await Assert.ThrowsAsync<MetadataException>(() => segments[1] == "queues"
            ? Server.Client.DeclareQueueAsync(Queue(vhost, segments[3], body), false)
            : Server.Client.DeclareExchangeAsync(new ExchangeRecord(vhost, segments[3], "x-no-such-type", false, false, false, []), false));
        Assert.Equal(replyCode, remote.ReplyCode);
        Assert.Equal(problem["detail"]!.GetValue<string>(), remote.Message);
    }

    [Theory]
    [InlineData(403, 403)]
    [InlineData(404, 404)]
    [InlineData(405, 423)]
    [InlineData(406, 409)]
    [InlineData(530, 403)]
    [InlineData(503, 400)]
    [InlineData(540, 400)]
    public void Reply_codes_map_to_http_statuses(int replyCode, int httpStatus) =>
        Assert.Equal(httpStatus, Problems.HttpStatusFor((ushort)replyCode));

    [Fact]
    public async Task Malformed_bodies_and_queries_are_400_problems()
    {
        foreach (var (path, body) in new[]
        {
            ("api/queues/%2F/q", "{"),
            ("api/queues/%2F/q", """{"durable": "yes"}"""),
            ("api/exchanges/%2F/x", """{"arguments": []}"""),
            ("api/policies/%2F/p", """{"apply_to": "queues"}"""),
            ("api/queues/%2F/q?passive=maybe", """{}"""),
        })
        {
            var response = await PutJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var binding = new HttpRequestMessage(HttpMethod.Put, new Uri("api/bindings", UriKind.Relative))
        {
            Content = new StringContent("""{"vhost": "/"}""", Encoding.UTF8, "application/json"),
        };
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(binding)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(new Uri("api/changes?after=-1", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(new Uri("api/changes?wait=soon", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Definitions_export_and_import_over_http_round_trip()
    {
        await Embedded.PutVirtualHostAsync(new VirtualHostRecord("shop"));
        await Embedded.PutUserAsync(new UserRecord("ivy", RabbitPasswordHashing.Hash("ivy-pw"), RabbitPasswordHashing.Sha256, ["monitoring"]));
        await Embedded.SetPermissionAsync(new PermissionRecord("ivy", "shop", ".*", ".*", ".*"));
        await Embedded.DeclareExchangeAsync(new ExchangeRecord("shop", "orders", "topic", true, false, false, []), false);
        await Embedded.DeclareQueueAsync(new QueueRecord("shop", "billing", true, false, new JsonObject { ["x-max-length"] = 100 }), false);
        await Embedded.BindAsync(new BindingRecord("shop", "orders", "billing", BindingDestinationType.Queue, "order.#", []));
        await Embedded.PutPolicyAsync(new PolicyRecord("shop", "ttl", "^billing$", "queues", 1, new JsonObject { ["message-ttl"] = 1000 }));

        var exported = await Server.Client.ExportDefinitionsAsync();
        var raw = await GetAsync<JsonObject>("api/definitions");
        Assert.Equal(
            (await Embedded.GetUserAsync("ivy"))!.PasswordHash,
            raw["users"]!.AsArray().Single(u => u!["name"]!.GetValue<string>() == "ivy")!["password_hash"]!.GetValue<string>());

        await using var target = new SqliteTestDatabase();
        await using var second = await ApiServer.StartAsync(target.Select(new MetaServiceOptions()));
        var result = await second.Client.ImportDefinitionsAsync(exported);
        Assert.Equal(1, result.Queues.Created);
        Assert.Equal(1, result.Bindings.Created);

        var queue = await second.Client.GetQueueAsync("shop", "billing");
        Assert.Equal(100, queue!.Arguments["x-max-length"]!.GetValue<int>());
        var ivy = (await second.Client.GetSnapshotAsync()).Users.Single(u => u.Name == "ivy");
        Assert.True(RabbitPasswordHashing.Verify("ivy-pw", ivy.PasswordHash, ivy.HashingAlgorithm));

        // Importing it again changes nothing.
        var again = await second.Client.ImportDefinitionsAsync(exported);
        Assert.Equal(0, again.Written);

        var bad = await _http.PostAsync(new Uri("api/definitions", UriKind.Relative), new StringContent("[1,2]", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static QueueRecord Queue(string vhost, string name, string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        return new QueueRecord(
            vhost,
            name,
            json["durable"]?.GetValue<bool>() ?? false,
            false,
            [],
            json["exclusive_owner"]?.GetValue<string>());
    }

    private Task<HttpResponseMessage> PutJsonAsync(string path, string body) =>
        _http.PutAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<T> GetAsync<T>(string path)
        where T : JsonNode
    {
        var text = await _http.GetStringAsync(new Uri(path, UriKind.Relative));
        return (T)JsonNode.Parse(text)!;
    }
}
