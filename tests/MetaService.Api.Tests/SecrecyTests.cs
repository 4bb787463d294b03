using System.Net.Http.Headers;
using System.Text;
using MetaService.Api.Tests.Support;

namespace MetaService.Api.Tests;

/// <summary>A password sent to the API appears in no response and no log line; neither does the API token.</summary>
public sealed class SecrecyTests : SqliteServiceTest
{
    private const string Password = "Pa55-w0rd-that-must-not-leak-7f3a";

    [Fact]
    public async Task A_password_is_never_returned_nor_logged()
    {
        using var http = Server.CreateHttpClient(ApiServer.Token);
        var put = await http.PutAsync(
            new Uri("api/users/leaky", UriKind.Relative),
            new StringContent($$"""{"password": "{{Password}}", "tags": ["administrator"]}""", Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();

        // A refused request carrying the password must not echo it either.
        var refused = await http.PutAsync(
            new Uri("api/users/leaky2", UriKind.Relative),
            new StringContent($$"""{"password": "{{Password}}", "password_hash": "{{Password}}"}""", Encoding.UTF8, "application/json"));
        Assert.False(refused.IsSuccessStatusCode);
        Assert.DoesNotContain(Password, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var malformed = await http.PutAsync(
            new Uri("api/users/leaky3", UriKind.Relative),
            new StringContent($$"""{"password": {{Password}}}""", Encoding.UTF8, "application/json"));
        Assert.DoesNotContain(Password, await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var responses = new StringBuilder();
        foreach (var path in new[]
        {
            "api/users", "api/users/leaky", "api/snapshot", "api/changes?after=0", "api/definitions", "api/permissions",
            "api/vhosts", "api/exchanges", "api/queues", "api/bindings", "api/policies", "healthz",
        })
        {
            responses.Append(await http.GetStringAsync(new Uri(path, UriKind.Relative)));
        }

        responses.Append(await ReadStreamAsync(http));
        var all = responses.ToString();
        Assert.Contains("leaky", all, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, all, StringComparison.Ordinal);

        var logs = Server.Logs.AllText;
        Assert.Contains("[3007]", logs, StringComparison.Ordinal); // the user change is logged...
        Assert.DoesNotContain(Password, logs, StringComparison.Ordinal); // ...without the password
        Assert.DoesNotContain(ApiServer.Token, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_is_not_logged()
    {
        using var http = Server.CreateHttpClient("wrong-token-value-91c2");
        await http.GetAsync(new Uri("api/vhosts", UriKind.Relative));
        Assert.Contains("[3003]", Server.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-token-value-91c2", Server.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>The first events of the change stream (everything so far), as text.</summary>
    private static async Task<string> ReadStreamAsync(HttpClient http)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("api/changes/stream?after=0", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var text = new StringBuilder();
        var buffer = new byte[8192];
        try
        {
            while (!text.ToString().Contains("leaky", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (OperationCanceledException)
        {
        }

        return text.ToString();
    }
}
