using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;

namespace Controller.Contracts;

/// <summary>
/// HTTP client of the controller for gateways (heartbeat, desired state) and operators (gwctl). Given every
/// controller instance's URL, it talks to whichever one is the leader: an instance that cannot be reached,
/// or that answers 503 as a standby, makes it move on — straight to the leader the standby named, else to
/// the next URL — and it sticks with the one that answered until that one fails.
/// </summary>
public sealed class ControllerClient : IDisposable
{
    private static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How many instances the client knows at most, the given ones and leaders standbys named.</summary>
    private const int MaxInstances = 16;
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    private readonly HttpClient _http;
    private readonly Lock _controllersLock = new();
    private Uri[] _controllers;   // only grows (a leader a standby named is added), replaced whole
    private readonly TimeSpan _requestTimeout;
    private int _current;

    public ControllerClient(IReadOnlyList<Uri> controllers, string token, HttpMessageHandler? handler = null, TimeSpan? requestTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(controllers.Count);
        _controllers = [.. controllers];
        _requestTimeout = requestTimeout ?? DefaultRequestTimeout;
        // Timeouts are per request (a long poll waits far longer than a status call), so the client's own is off.
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>Parses a comma-separated list of controller URLs (the form of <c>--controller</c> switches).</summary>
    public static IReadOnlyList<Uri> ParseUrls(string list) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new FormatException($"'{url}' is not an http(s) URL of a controller"))];

    /// <summary>The instance the last successful call went to.</summary>
    public Uri Current
    {
        get
        {
            // The index first: it is published after the array that holds it.
            int current = Volatile.Read(ref _current);
            return Volatile.Read(ref _controllers)[current];
        }
    }

    public async Task<HeartbeatReply> HeartbeatAsync(GatewayReport report, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, ControllerRoutes.Heartbeat, JsonContent.Create(report, Json.GatewayReport), Json.HeartbeatReply, null, cancellationToken))!;

    /// <summary>
    /// The node's desired state, or null when it still has <paramref name="etag"/> after waiting up to
    /// <paramref name="wait"/> (the long poll).
    /// </summary>
    public Task<ControlState?> GetStateAsync(string nodeId, string? etag, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var query = $"{ControllerRoutes.GatewayState}?node={Uri.EscapeDataString(nodeId)}&waitMs={(long)wait.TotalMilliseconds}"
            + (etag is null ? "" : $"&etag={Uri.EscapeDataString(etag)}");
        return SendAsync(HttpMethod.Get, query, null, Json.ControlState, _requestTimeout + wait, cancellationToken);
    }

    public async Task<ControllerStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.Status, null, Json.ControllerStatus, null, cancellationToken))!;

    public async Task<NodeView[]> GetNodesAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.Nodes, null, Json.NodeViewArray, null, cancellationToken))!;

    public async Task<QueueView[]> GetQueuesAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.Queues, null, Json.QueueViewArray, null, cancellationToken))!;

    public async Task<ConsumerView[]> GetConsumersAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.Consumers, null, Json.ConsumerViewArray, null, cancellationToken))!;

    public async Task<PauseRule[]> GetPausesAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.Pauses, null, Json.PauseRuleArray, null, cancellationToken))!;

    /// <summary>Pauses; returns the rule in force (an identical existing rule is returned, not duplicated).</summary>
    public async Task<PauseRule> PauseAsync(PauseRequest request, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, ControllerRoutes.Pauses, JsonContent.Create(request, Json.PauseRequest), Json.PauseRule, null, cancellationToken))!;

    /// <summary>Resumes; returns how many rules went. A <see cref="ControllerException"/> with 404 when none matched.</summary>
    public async Task<int> ResumeAsync(string vhost, string queue, string? clientAddress = null, string? connectionName = null, CancellationToken cancellationToken = default)
    {
        var query = $"{ControllerRoutes.Pauses}?vhost={Uri.EscapeDataString(vhost)}&queue={Uri.EscapeDataString(queue)}"
            + (clientAddress is null ? "" : $"&clientAddress={Uri.EscapeDataString(clientAddress)}")
            + (connectionName is null ? "" : $"&connectionName={Uri.EscapeDataString(connectionName)}");
        return (await SendAsync(HttpMethod.Delete, query, null, Json.RemovedReply, null, cancellationToken))!.Removed;
    }

    public async Task<ConsumeLimit[]> GetConsumeLimitsAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.ConsumeLimits, null, Json.ConsumeLimitArray, null, cancellationToken))!;

    public async Task<ConsumeLimit> SetConsumeLimitAsync(ConsumeLimit limit, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Put, ControllerRoutes.ConsumeLimits, JsonContent.Create(limit, Json.ConsumeLimit), Json.ConsumeLimit, null, cancellationToken))!;

    public async Task<int> RemoveConsumeLimitAsync(string vhost, string queue, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Delete, $"{ControllerRoutes.ConsumeLimits}?vhost={Uri.EscapeDataString(vhost)}&queue={Uri.EscapeDataString(queue)}", null, Json.RemovedReply, null, cancellationToken))!.Removed;

    public async Task<PublishLimit[]> GetPublishLimitsAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, ControllerRoutes.PublishLimits, null, Json.PublishLimitArray, null, cancellationToken))!;

    public async Task<PublishLimit> SetPublishLimitAsync(PublishLimit limit, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Put, ControllerRoutes.PublishLimits, JsonContent.Create(limit, Json.PublishLimit), Json.PublishLimit, null, cancellationToken))!;

    public async Task<int> RemovePublishLimitAsync(string vhost, string? exchange = null, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Delete, $"{ControllerRoutes.PublishLimits}?vhost={Uri.EscapeDataString(vhost)}" + (exchange is null ? "" : $"&exchange={Uri.EscapeDataString(exchange)}"), null, Json.RemovedReply, null, cancellationToken))!.Removed;

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// One call, tried on each instance at most once (plus a leader a standby named) starting with the current
    /// one. Returns null for 304 Not Modified. Throws <see cref="ControllerException"/>: with the status for an
    /// answer from the leader that is not a success, without one when no leader answered.
    /// </summary>
    private async Task<T?> SendAsync<T>(HttpMethod method, string pathAndQuery, HttpContent? content, JsonTypeInfo<T> reply, TimeSpan? timeout, CancellationToken cancellationToken)
        where T : class
    {
        var body = content is null ? null : await content.ReadAsByteArrayAsync(cancellationToken);
        var mediaType = content?.Headers.ContentType;
        int start = Volatile.Read(ref _current);
        var controllers = Volatile.Read(ref _controllers);
        // Every listed instance is tried once, from the current one on; a leader a standby names is tried next,
        // in addition to them, never instead of one (a hint may be unreachable from here, e.g. a container name).
        var pending = new LinkedList<Uri>(Enumerable.Range(0, controllers.Length).Select(i => controllers[(start + i) % controllers.Length]));
        var tried = new List<Uri>();
        string lastFailure = "no controller URL";
        while (pending.First is { } next)
        {
            pending.RemoveFirst();
            Uri baseUrl = next.Value;
            if (tried.Any(t => SameOrigin(t, baseUrl)))
            {
                continue;
            }

            tried.Add(baseUrl);
            int index = Array.FindIndex(controllers, u => SameOrigin(u, baseUrl));
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, pathAndQuery));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = mediaType;
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout ?? _requestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, deadline.Token);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                lastFailure = $"{baseUrl}: {e.Message}";
                continue;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    var standby = await TryReadAsync(response, Json.StandbyProblem, cancellationToken);
                    if (standby is not { Error: "standby" })
                    {
                        // The leader itself cannot serve (its database is unreachable): say so rather than "standby".
                        var problem = await TryReadAsync(response, Json.ControllerProblem, cancellationToken);
                        lastFailure = $"{baseUrl}: unavailable ({problem?.Detail ?? problem?.Title ?? "503"})";
                        continue;
                    }

                    lastFailure = $"{baseUrl}: standby (leader {standby.LeaderId ?? "unknown"})";
                    if (standby.LeaderUrl is { } leaderUrl && Uri.TryCreate(leaderUrl, UriKind.Absolute, out var leader))
                    {
                        pending.AddFirst(leader);
                    }

                    continue;
                }

                if (index < 0)
                {
                    // A leader only a standby knew of: remembered, so the next call goes to it directly
                    // instead of through the standby again.
                    index = Remember(baseUrl);
                }

                if (index >= 0)
                {
                    Volatile.Write(ref _current, index);
                }

                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return null;
                }

                if (!response.IsSuccessStatusCode)
                {
                    var problem = await TryReadAsync(response, Json.ControllerProblem, cancellationToken);
                    throw new ControllerException(
                        response.StatusCode,
                        problem?.Detail ?? problem?.Title ?? $"{(int)response.StatusCode} {response.ReasonPhrase}");
                }

                return await response.Content.ReadFromJsonAsync(reply, cancellationToken)
                    ?? throw new ControllerException(response.StatusCode, "empty answer from the controller");
            }
        }

        throw new ControllerException(null, $"no controller leader reachable ({lastFailure})");
    }

    /// <summary>Adds an instance to the known ones; its index, or -1 when the client knows too many already.</summary>
    private int Remember(Uri instance)
    {
        lock (_controllersLock)
        {
            var known = _controllers;
            int index = Array.FindIndex(known, u => SameOrigin(u, instance));
            if (index >= 0 || known.Length >= MaxInstances)
            {
                return index;
            }

            Volatile.Write(ref _controllers, [.. known, instance]);
            return known.Length;
        }
    }

    private static async Task<T?> TryReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
