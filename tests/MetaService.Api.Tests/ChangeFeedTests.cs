using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;

namespace MetaService.Api.Tests;

/// <summary>The change feed over HTTP: the long poll and the server-sent event stream.</summary>
public sealed class ChangeFeedTests : SqliteServiceTest
{
    [Fact]
    public async Task Long_poll_returns_as_soon_as_a_change_commits()
    {
        var revision = (await Server.Client.GetSnapshotAsync()).Revision;
        var watch = Stopwatch.StartNew();
        var poll = Server.Client.GetChangesAsync(revision, TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.False(poll.IsCompleted);

        await Embedded.DeclareQueueAsync(new QueueRecord("/", "wake-up", true, false, []), false);
        var batch = await poll.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        var change = Assert.Single(batch.Changes);
        Assert.Equal(revision + 1, change.Revision);
        Assert.Equal("queue", change.Entity);
        Assert.Equal("wake-up", change.Value["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Long_poll_returns_an_empty_batch_after_the_wait()
    {
        var revision = (await Server.Client.GetSnapshotAsync()).Revision;
        var watch = Stopwatch.StartNew();
        var batch = await Server.Client.GetChangesAsync(revision, TimeSpan.FromSeconds(1));
        Assert.Empty(batch.Changes);
        Assert.Equal(revision, batch.Revision);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));

        // Without a wait the poll answers at once.
        watch.Restart();
        Assert.Empty((await Server.Client.GetChangesAsync(revision, TimeSpan.Zero)).Changes);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Stream_delivers_every_change_in_order()
    {
        var revision = (await Server.Client.GetSnapshotAsync()).Revision;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<MetadataChange>();
        var reader = Task.Run(async () =>
        {
            await foreach (var change in Server.Client.StreamChangesAsync(revision, timeout.Token))
            {
                received.Add(change);
                if (received.Count == 5)
                {
                    return;
                }
            }
        });

        for (var i = 0; i < 5; i++)
        {
            await Embedded.DeclareQueueAsync(new QueueRecord("/", $"s{i}", true, false, []), false);
        }

        await reader.WaitAsync(timeout.Token);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => revision + i), received.Select(c => c.Revision));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"s{i}"), received.Select(c => c.Value["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Stream_resumes_from_Last_Event_ID()
    {
        var revision = (await Server.Client.GetSnapshotAsync()).Revision;
        for (var i = 0; i < 4; i++)
        {
            await Embedded.DeclareQueueAsync(new QueueRecord("/", $"r{i}", true, false, []), false);
        }

        var first = await ReadEventsAsync(after: revision, lastEventId: null, count: 2);
        Assert.Equal([revision + 1, revision + 2], first.Select(e => long.Parse(e.EventId!, CultureInfo.InvariantCulture)));
        Assert.All(first, e => Assert.Equal("change", e.EventType));

        // A reconnecting EventSource sends the last id it saw; it wins over ?after.
        var resumed = await ReadEventsAsync(after: 0, lastEventId: first[^1].EventId, count: 2);
        Assert.Equal([revision + 3, revision + 4], resumed.Select(e => long.Parse(e.EventId!, CultureInfo.InvariantCulture)));
        Assert.Contains("\"r2\"", resumed[0].Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_stream_sends_keep_alives_and_the_retry_hint()
    {
        await using var quick = await ApiServer.StartAsync(
            Database.Select(new Hosting.MetaServiceOptions { StreamKeepAlive = TimeSpan.FromMilliseconds(200) }));
        using var http = quick.CreateHttpClient(ApiServer.Token);
        var revision = (await quick.Client.GetSnapshotAsync()).Revision;
        using var response = await http.GetAsync(
            new Uri($"api/changes/stream?after={revision}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("retry: 1000", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal("", await reader.ReadLineAsync(timeout.Token));
        Assert.Equal(": keep-alive", await reader.ReadLineAsync(timeout.Token));
    }

    [Fact]
    public async Task Long_polls_and_streams_end_when_the_service_stops()
    {
        var server = await ApiServer.StartAsync(Database.Select(new Hosting.MetaServiceOptions()));
        var revision = (await server.Client.GetSnapshotAsync()).Revision;
        using var client = new MetaServiceClient(server.BaseAddress, ApiServer.Token);
        var poll = client.GetChangesAsync(revision, TimeSpan.FromSeconds(60));
        using var http = server.CreateHttpClient(ApiServer.Token);
        using var stream = await http.GetAsync(
            new Uri($"api/changes/stream?after={revision}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await Task.Delay(200);

        var watch = Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {watch.Elapsed}");
        // The poll is answered (empty) rather than left hanging until its wait is over.
        var batch = await poll.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(batch.Changes);
        Assert.Equal(revision, batch.Revision);
    }

    private async Task<List<SseItem<string>>> ReadEventsAsync(long after, string? lastEventId, int count)
    {
        using var http = Server.CreateHttpClient(ApiServer.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/changes/stream?after={after}", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            if (item.EventType == "change")
            {
                events.Add(item);
                if (events.Count == count)
                {
                    break;
                }
            }
        }

        return events;
    }
}
