using System.Net;
using System.Text;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;

namespace MetaService.Api.Tests;

/// <summary>The HTTP layer: names that are hard to put in a URL path, the bearer token, problem bodies.</summary>
public sealed class HttpLayerTests : SqliteServiceTest
{
    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("~")]
    [InlineData("~x")]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("a%2Fb")]
    [InlineData("a%252Fb")]
    [InlineData("sp ace?#&+;=")]
    [InlineData("ünï©ødé")]
    public async Task Awkward_names_round_trip_through_the_path(string name)
    {
        var client = Server.Client;
        await client.PutVirtualHostAsync(new VirtualHostRecord("v" + name));
        var queue = await client.DeclareQueueAsync(new QueueRecord("v" + name, name, true, false, []), passive: false);
        Assert.Equal(name, queue.Name);
        Assert.Equal("v" + name, queue.VirtualHost);

        Assert.Equal(queue.Topic, (await client.GetQueueAsync("v" + name, name))?.Topic);
        Assert.Equal(queue.Topic, (await Embedded.GetQueueAsync("v" + name, name))?.Topic);
        Assert.NotNull(await client.GetVirtualHostAsync("v" + name));
        Assert.Null(await client.GetQueueAsync("v" + name, name + "-other"));

        await client.PutPolicyAsync(new PolicyRecord("v" + name, name, ".*", "all", 0, []));
        Assert.Contains((await Embedded.GetSnapshotAsync()).Policies, p => p.Name == name);
        await client.DeletePolicyAsync("v" + name, name);

        Assert.Equal(queue.Topic, (await client.DeleteQueueAsync("v" + name, name))?.Topic);
        await client.DeleteVirtualHostAsync("v" + name);
        Assert.Null(await Embedded.GetVirtualHostAsync("v" + name));
    }

    [Fact]
    public async Task The_empty_name_reaches_the_store_as_empty()
    {
        Assert.Null(await Server.Client.GetQueueAsync("/", ""));
        Assert.Null(await Server.Client.GetVirtualHostAsync(""));
        var remote = await Assert.ThrowsAsync<MetadataException>(() => Server.Client.DeleteExchangeAsync("/", "", false));
        var embedded = await Assert.ThrowsAsync<MetadataException>(() => Embedded.DeleteExchangeAsync("/", "", false));
        Assert.Equal(embedded.Message, remote.Message);

        // queue.declare with an empty name asks for a server-named queue.
        var queue = await Server.Client.DeclareQueueAsync(new QueueRecord("/", "", false, true, [], "conn"), false);
        Assert.StartsWith("amq.gen-", queue.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_needs_no_token()
    {
        var response = await Server.Http.GetAsync(new Uri("healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong")]
    [InlineData(ApiServer.Token + "x")]
    [InlineData("test-token")]
    public async Task Api_without_the_right_token_is_401(string? token)
    {
        using var http = Server.CreateHttpClient(null);
        if (token is not null)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        string[] paths =
        [
            "api/vhosts", "api/snapshot", "api/changes?after=0", "api/changes/stream", "api/users/guest", "api/definitions", "api/nothing-here",
        ];
        foreach (var path in paths)
        {
            var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        var put = await http.PutAsync(new Uri("api/vhosts/x", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
        var post = await http.PostAsync(new Uri("api/definitions", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.Null(await Embedded.GetVirtualHostAsync("x"));

        // The typed client with a wrong token fails loudly, not with a null or a MetadataException.
        using var wrong = new MetaServiceClient(Server.BaseAddress, "wrong");
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetVirtualHostAsync("/"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Other_schemes_and_a_basic_header_are_401()
    {
        using var http = Server.CreateHttpClient(null);
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("guest:guest")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri("api/vhosts", UriKind.Relative))).StatusCode);
        Assert.Contains(
            Server.Logs.Lines,
            line => line.Contains("[3003]", StringComparison.Ordinal) && line.Contains("not a bearer token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bearer_scheme_is_case_insensitive()
    {
        using var http = Server.CreateHttpClient(null);
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "bearer " + ApiServer.Token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("api/vhosts", UriKind.Relative))).StatusCode);
    }
}
