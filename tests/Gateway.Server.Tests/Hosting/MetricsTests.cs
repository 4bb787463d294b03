using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TestSupport;

namespace Gateway.Server.Tests.Hosting;

/// <summary>GET /metrics on the gateway's metrics port, scraped as Prometheus would, after real AMQP traffic (docs/metrics.md).</summary>
public sealed class MetricsTests : GatewayTest
{
    private static CreateChannelOptions Confirms => new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Publishes_deliveries_acks_and_redeliveries_are_counted_per_vhost_with_the_confirm_latency()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("counted", durable: true, exclusive: false, autoDelete: false);
        for (int i = 0; i < 3; i++)
        {
            await channel.BasicPublishAsync("", "counted", new byte[] { (byte)i });   // awaits its confirm
        }

        // One basic.get-ok, returned to the queue, so it comes again flagged redelivered.
        BasicGetResult first = (await channel.BasicGetAsync("counted", autoAck: false))!;
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);

        int received = 0;
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, args) =>
        {
            await channel.BasicAckAsync(args.DeliveryTag, multiple: false);
            Interlocked.Increment(ref received);
        };
        await channel.BasicConsumeAsync("counted", autoAck: false, consumer);
        await GatewayFixture.WaitUntilAsync(() => Volatile.Read(ref received) == 3);

        var scrape = await ScrapeUntilAsync(s => s.Value("gateway_messages_acknowledged_total", ("vhost", "/")) == 3);
        Assert.Equal(3, scrape.Value("gateway_messages_published_total", ("vhost", "/")));
        Assert.Equal(4, scrape.Value("gateway_messages_delivered_total", ("vhost", "/")));   // the get-ok and three deliveries
        Assert.Equal(1, scrape.Value("gateway_messages_redelivered_total", ("vhost", "/")));
        var counted = new[] { ("vhost", "/"), ("queue", "counted") };
        Assert.Equal(3, scrape.Value("gateway_queue_messages_published_total", counted));
        Assert.Equal(4, scrape.Value("gateway_queue_messages_delivered_total", counted));
        Assert.Equal(1, scrape.Value("gateway_queue_messages_redelivered_total", counted));
        Assert.Equal(3, scrape.Value("gateway_queue_messages_acknowledged_total", counted));
        Assert.Equal(3, scrape.Value("gateway_publish_confirm_seconds_count"));
        Assert.True(scrape.Value("gateway_publish_confirm_seconds_sum") > 0);
        Assert.Equal(3, scrape.Value("gateway_publish_confirm_seconds_bucket", ("le", "+Inf")));
    }

    [Fact]
    public async Task Each_queue_reports_ready_unacked_consumers_and_longest_wait_and_its_series_go_with_it()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.QueueDeclareAsync("depth", durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync("idle", durable: true, exclusive: false, autoDelete: false);
        for (int i = 0; i < 5; i++)
        {
            await channel.BasicPublishAsync("", "depth", new byte[] { (byte)i });
        }

        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 2, global: false);
        await consuming.BasicConsumeAsync("depth", autoAck: false, new AsyncEventingBasicConsumer(consuming));   // never acks

        var depth = new[] { ("vhost", "/"), ("queue", "depth") };
        var scrape = await ScrapeUntilAsync(s => s.Value("gateway_queue_messages_unacked", depth) == 2);
        Assert.Equal(3, scrape.Value("gateway_queue_messages_ready", depth));
        Assert.Equal(1, scrape.Value("gateway_queue_consumers", depth));
        long longestWait = Gateway.Topology.FindQueue("/", "depth")!.Value.Dispatch.LongestWait;
        Assert.Equal(longestWait, scrape.Value("gateway_queue_longest_wait_dispatches", depth));
        Assert.Equal(0, scrape.Value("gateway_queue_messages_ready", ("vhost", "/"), ("queue", "idle")));
        Assert.Equal(1, scrape.Value("gateway_connections"));
        Assert.Equal(2, scrape.Value("gateway_channels"));

        await channel.QueueDeleteAsync("idle");
        scrape = await ScrapeAsync();
        Assert.Null(scrape.Find("gateway_queue_messages_ready", ("vhost", "/"), ("queue", "idle")));
        Assert.NotNull(scrape.Find("gateway_queue_messages_ready", depth));
    }

    [Fact]
    public async Task A_negative_metrics_port_turns_the_listener_off()
    {
        Assert.NotNull(Gateway.MetricsUrl);
        await using var withoutMetrics = await GatewayFixture.StartAsync(extraArgs: ["--metrics-port", "-1"]);

        Assert.Null(withoutMetrics.MetricsUrl);
        Assert.Equal([$"http://127.0.0.1:{withoutMetrics.Port}"], withoutMetrics.ListeningAddresses);   // AMQP alone
    }

    private async Task<Scrape> ScrapeAsync()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(Gateway.MetricsUrl);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return Scrape.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Scrapes until <paramref name="ready"/> holds: acks and dispatch reach the gateway after the client's calls return.</summary>
    private async Task<Scrape> ScrapeUntilAsync(Func<Scrape, bool> ready)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (ready(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;   // past the deadline the test's assertions say what is wrong
            }

            await Task.Delay(20);
        }
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
                double value = double.Parse(line[(valueStart + 1)..], CultureInfo.InvariantCulture);
                int brace = series.IndexOf('{', StringComparison.Ordinal);
                var labels = new Dictionary<string, string>();
                if (brace >= 0)
                {
                    // Label values here (vhost and queue names, bucket bounds) hold no commas or quotes.
                    foreach (string pair in series[(brace + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        string[] parts = pair.Split('=', 2);
                        labels[parts[0]] = parts[1].Trim('"');
                    }
                }

                samples.Add((brace >= 0 ? series[..brace] : series, labels, value));
            }

            return new Scrape(samples);
        }

        public double? Find(string name, params (string Key, string Value)[] labels) =>
            samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))
                .Select(s => (double?)s.Value)
                .FirstOrDefault();

        public double Value(string name, params (string Key, string Value)[] labels) =>
            Find(name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}");
    }
}
