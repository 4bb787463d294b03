using System.Globalization;
using System.Net;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;

namespace MetaService.Api.Tests;

/// <summary>GET /metrics: scraped without a token, request counts and durations by route template, and the change feed's revision.</summary>
public sealed class MetricsTests : SqliteServiceTest
{
    [Fact]
    public async Task Metrics_need_no_token_and_count_requests_by_route_and_show_the_change_feed_revision()
    {
        await Server.Client.PutVirtualHostAsync(new VirtualHostRecord("metrics-a"));
        await Server.Client.PutVirtualHostAsync(new VirtualHostRecord("metrics-b"));
        using var anonymous = Server.CreateHttpClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("api/vhosts", UriKind.Relative))).StatusCode);

        var before = await ScrapeAsync(anonymous);
        long revision = (await Server.Client.GetSnapshotAsync()).Revision;
        Assert.Equal(revision, before.Value("meta_change_feed_revision"));
        var puts = before.Samples("http_requests_received_total", ("method", "PUT")).ToList();
        Assert.Equal(2, puts.Sum(s => s.Value));
        // The route template, not the vhost names: bounded series, and no names leak to an unauthenticated reader.
        Assert.All(puts, s => Assert.DoesNotContain("metrics-a", s.Labels["endpoint"], StringComparison.Ordinal));
        Assert.True(before.Samples("http_requests_received_total", ("code", "401")).Sum(s => s.Value) >= 1);
        Assert.True(before.Samples("http_request_duration_seconds_count", ("method", "PUT")).Sum(s => s.Value) == 2);

        await Server.Client.PutVirtualHostAsync(new VirtualHostRecord("metrics-c"));
        var after = await ScrapeAsync(anonymous);
        Assert.True(after.Value("meta_change_feed_revision") > revision);
    }

    private static async Task<Scrape> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Scrape.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Samples of a Prometheus text exposition: metric name, labels, value.</summary>
    private sealed class Scrape(List<(string Name, Dictionary<string, string> Labels, double Value)> samples)
    {
        public static Scrape Parse(string text)
        {
            var samples = new List<(string, Dictionary<string, string>, double)>();
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }

                int valueStart = line.LastIndexOf(' ');
                string series = line[..valueStart];
                int brace = series.IndexOf('{', StringComparison.Ordinal);
                var labels = new Dictionary<string, string>();
                if (brace >= 0)
                {
                    // Label values here (methods, codes, route templates) hold no commas or quotes.
                    foreach (string pair in series[(brace + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        string[] parts = pair.Split('=', 2);
                        labels[parts[0]] = parts[1].Trim('"');
                    }
                }

                samples.Add((brace >= 0 ? series[..brace] : series, labels, double.Parse(line[(valueStart + 1)..], CultureInfo.InvariantCulture)));
            }

            return new Scrape(samples);
        }

        public IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> Samples(string name, params (string Key, string Value)[] labels) =>
            samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value));

        public double Value(string name) => Samples(name).Single().Value;
    }
}
