using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MetaService.Contracts.Definitions;
using MetaService.Contracts.Http;

namespace MetaService.Contracts;

/// <summary>
/// <see cref="IMetadataStore"/> over the metadata service's HTTP API: the same operations and the same
/// refusals as the in-process store. A refusal comes back as a problem response carrying the AMQP reply
/// code, and is rethrown as a <see cref="MetadataException"/> with that <see cref="MetadataException.ReplyCode"/>
/// and the explanation verbatim, so a gateway behaves identically on a remote or an embedded store.
/// Transport failures surface as <see cref="HttpRequestException"/>, and a call that outlives its
/// request timeout as <see cref="TimeoutException"/>.
/// </summary>
/// <remarks>
/// <para>The users API never returns password hashes: <see cref="GetUserAsync"/> and <see cref="ListUsersAsync"/>
/// return users with an empty <see cref="UserRecord.PasswordHash"/>, which
/// <see cref="RabbitPasswordHashing.Verify"/> refuses. A gateway authenticates from the snapshot and the
/// change feed (<see cref="GetSnapshotAsync"/>, <see cref="GetChangesAsync"/>, <see cref="MetadataFollower"/>),
/// which carry hashes (never passwords) because a gateway needs them to check a login.</para>
/// <para>Usable as a typed HttpClient: register it with <c>AddHttpClient&lt;MetaServiceClient&gt;</c> and
/// configure the client with <see cref="Configure"/>. That HttpClient's own <see cref="HttpClient.Timeout"/>
/// (100 s by default) also bounds long polls.</para>
/// </remarks>
public sealed class MetaServiceClient : IMetadataStore, IDisposable
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    private readonly HttpClient _http;
    private readonly bool _ownsHttpClient;

    /// <summary>Wraps an HttpClient whose base address and bearer token are already set (see <see cref="Configure"/>).</summary>
    public MetaServiceClient(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
        {
            throw new ArgumentException("the HttpClient needs a BaseAddress (the metadata service's URL)", nameof(httpClient));
        }

        _http = httpClient;
    }

    /// <summary>A client with its own HttpClient (disposed with this client).</summary>
    public MetaServiceClient(Uri baseAddress, string token)
        : this(Configure(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, baseAddress, token))
    {
        _ownsHttpClient = true;
    }

    /// <summary>
    /// Bounds each call; long polls get their wait on top. Default 30 s. The HttpClient's own timeout
    /// still applies when it is shorter.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The extra time a definitions import may take. Default 10 min.</summary>
    public TimeSpan ImportTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Points an HttpClient at the service and sets the <c>Authorization: Bearer</c> token.</summary>
    public static HttpClient Configure(HttpClient httpClient, Uri baseAddress, string token)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentException.ThrowIfNullOrEmpty(token);

        // Relative request paths ("api/…") resolve under the base path only when it ends with '/'.
        httpClient.BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        httpClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return httpClient;
    }

    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _http.Dispose();
        }
    }

    // ---- virtual hosts, users, permissions

    public async Task<IReadOnlyList<VirtualHostRecord>> ListVirtualHostsAsync(CancellationToken cancellationToken = default) =>
        await GetRequiredAsync("api/vhosts", Json.IReadOnlyListVirtualHostRecord, cancellationToken);

    public Task<VirtualHostRecord?> GetVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(Path("api/vhosts", name), Json.VirtualHostRecord, cancellationToken);

    public Task PutVirtualHostAsync(VirtualHostRecord virtualHost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(virtualHost);
        var body = new VirtualHostBody(virtualHost.Description, virtualHost.Tags);
        return SendAsync(
            HttpMethod.Put, Path("api/vhosts", virtualHost.Name), JsonContent.Create(body, Json.VirtualHostBody), cancellationToken);
    }

    public Task DeleteVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Path("api/vhosts", name), null, cancellationToken);

    public async Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        var users = await GetRequiredAsync("api/users", Json.IReadOnlyListUserView, cancellationToken);
        return [.. users.Select(ToRecord)];
    }

    public async Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken = default)
    {
        var user = await GetOrNullAsync(Path("api/users", name), Json.UserView, cancellationToken);
        return user is null ? null : ToRecord(user);
    }

    public Task PutUserAsync(UserRecord user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        var body = new UserBody(PasswordHash: user.PasswordHash, HashingAlgorithm: user.HashingAlgorithm, Tags: user.Tags);
        return SendAsync(HttpMethod.Put, Path("api/users", user.Name), JsonContent.Create(body, Json.UserBody), cancellationToken);
    }

    /// <summary>
    /// Creates or updates a user from a clear-text password, which the service hashes (SHA-256, RabbitMQ's
    /// format) and never stores or logs. Not part of <see cref="IMetadataStore"/>: a store only ever sees hashes.
    /// </summary>
    public Task PutUserWithPasswordAsync(
        string name, string password, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(password);
        var body = new UserBody(Password: password, Tags: tags);
        return SendAsync(HttpMethod.Put, Path("api/users", name), JsonContent.Create(body, Json.UserBody), cancellationToken);
    }

    public Task DeleteUserAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Path("api/users", name), null, cancellationToken);

    public async Task<IReadOnlyList<PermissionRecord>> ListPermissionsAsync(CancellationToken cancellationToken = default) =>
        await GetRequiredAsync("api/permissions", Json.IReadOnlyListPermissionRecord, cancellationToken);

    public Task<PermissionRecord?> GetPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(Path("api/permissions", virtualHost, user), Json.PermissionRecord, cancellationToken);

    public Task SetPermissionAsync(PermissionRecord permission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(permission);
        var body = new PermissionBody(permission.Configure, permission.Write, permission.Read);
        return SendAsync(
            HttpMethod.Put,
            Path("api/permissions", permission.VirtualHost, permission.User),
            JsonContent.Create(body, Json.PermissionBody),
            cancellationToken);
    }

    public Task ClearPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Path("api/permissions", virtualHost, user), null, cancellationToken);

    // ---- topology

    public async Task<ExchangeRecord> DeclareExchangeAsync(
        ExchangeRecord exchange, bool passive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var body = new ExchangeBody(exchange.Type, exchange.Durable, exchange.AutoDelete, exchange.Internal, exchange.Arguments);
        var path = Path("api/exchanges", exchange.VirtualHost, exchange.Name) + (passive ? "?passive=true" : "");
        var content = JsonContent.Create(body, Json.ExchangeBody);
        return await SendAsync(HttpMethod.Put, path, content, Json.ExchangeRecord, cancellationToken)
            ?? throw EmptyResponse(path);
    }

    public Task DeleteExchangeAsync(string virtualHost, string name, bool ifUnused, CancellationToken cancellationToken = default) =>
        SendAsync(
            HttpMethod.Delete, Path("api/exchanges", virtualHost, name) + (ifUnused ? "?if_unused=true" : ""), null, cancellationToken);

    public Task<ExchangeRecord?> GetExchangeAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(Path("api/exchanges", virtualHost, name), Json.ExchangeRecord, cancellationToken);

    public async Task<QueueRecord> DeclareQueueAsync(QueueRecord queue, bool passive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var body = new QueueBody(queue.Durable, queue.AutoDelete, queue.Arguments, queue.ExclusiveOwner);
        var path = Path("api/queues", queue.VirtualHost, queue.Name) + (passive ? "?passive=true" : "");
        var content = JsonContent.Create(body, Json.QueueBody);
        return await SendAsync(HttpMethod.Put, path, content, Json.QueueRecord, cancellationToken)
            ?? throw EmptyResponse(path);
    }

    public Task<QueueRecord?> DeleteQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        SendAsync(
            HttpMethod.Delete, Path("api/queues", virtualHost, name), null, Json.QueueRecord, cancellationToken);

    public Task<QueueRecord?> GetQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(Path("api/queues", virtualHost, name), Json.QueueRecord, cancellationToken);

    public Task BindAsync(BindingRecord binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return SendAsync(HttpMethod.Put, "api/bindings", JsonContent.Create(binding, Json.BindingRecord), cancellationToken);
    }

    public Task UnbindAsync(BindingRecord binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return SendAsync(HttpMethod.Delete, "api/bindings", JsonContent.Create(binding, Json.BindingRecord), cancellationToken);
    }

    // ---- policies

    public Task PutPolicyAsync(PolicyRecord policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var body = new PolicyBody(policy.Pattern, policy.ApplyTo, policy.Priority, policy.Definition);
        var content = JsonContent.Create(body, Json.PolicyBody);
        return SendAsync(HttpMethod.Put, Path("api/policies", policy.VirtualHost, policy.Name), content, cancellationToken);
    }

    public Task DeletePolicyAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Path("api/policies", virtualHost, name), null, cancellationToken);

    // ---- state and change feed

    public async Task<MetadataSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        await GetRequiredAsync("api/snapshot", Json.MetadataSnapshot, cancellationToken);

    public async Task<ChangeBatch> GetChangesAsync(long afterRevision, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var waitMs = (long)Math.Max(0, maxWait.TotalMilliseconds);
        var path = $"api/changes?after={afterRevision}&wait={waitMs}ms";
        return await SendAsync(HttpMethod.Get, path, null, Json.ChangeBatch, cancellationToken, maxWait)
            ?? throw EmptyResponse(path);
    }

    /// <summary>
    /// Follows <c>GET /api/changes/stream</c> (server-sent events): every change after
    /// <paramref name="afterRevision"/>, in revision order, until cancelled or the connection drops
    /// (then resume from the last revision seen; the server accepts it as <c>Last-Event-ID</c> too).
    /// </summary>
    public async IAsyncEnumerable<MetadataChange> StreamChangesAsync(
        long afterRevision,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/changes/stream?after={afterRevision}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            await ThrowForProblemAsync(response, request.RequestUri!.ToString(), cancellationToken);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var parser = SseParser.Create(stream, static (eventType, data) =>
            eventType == "change" ? JsonSerializer.Deserialize(data, Json.MetadataChange) : null);
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data is { } change)
            {
                yield return change;
            }
        }
    }

    /// <summary>
    /// <c>GET /api/definitions</c>: the service's metadata as a RabbitMQ definitions document (users with
    /// their password hashes, as RabbitMQ exports them).
    /// </summary>
    public async Task<RabbitMqDefinitions> ExportDefinitionsAsync(CancellationToken cancellationToken = default) =>
        await GetRequiredAsync("api/definitions", DefinitionsJsonContext.Default.RabbitMqDefinitions, cancellationToken);

    /// <summary>
    /// <c>POST /api/definitions</c>: imports a RabbitMQ definitions document on the service (see
    /// <see cref="DefinitionsImporter"/>). An import may run for minutes: it gets <see cref="ImportTimeout"/>
    /// on top of <see cref="RequestTimeout"/>.
    /// </summary>
    public async Task<DefinitionsImportResult> ImportDefinitionsAsync(
        RabbitMqDefinitions definitions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var content = JsonContent.Create(definitions, DefinitionsJsonContext.Default.RabbitMqDefinitions);
        return await SendAsync(
                HttpMethod.Post, "api/definitions", content, Json.DefinitionsImportResult, cancellationToken, ImportTimeout)
            ?? throw EmptyResponse("api/definitions");
    }

    // ---- plumbing

    private static string Path(string collection, string name) => $"{collection}/{PathSegment.Encode(name)}";

    private static string Path(string collection, string virtualHost, string name) =>
        $"{collection}/{PathSegment.Encode(virtualHost)}/{PathSegment.Encode(name)}";

    private static UserRecord ToRecord(UserView user) => new(user.Name, "", user.HashingAlgorithm, user.Tags);

    private static InvalidDataException EmptyResponse(string path) =>
        new($"the metadata service answered {path} with an empty body");

    private Task<T?> GetOrNullAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class =>
        SendAsync(HttpMethod.Get, path, null, type, nullWhenNotFound: true, TimeSpan.Zero, cancellationToken);

    private async Task<T> GetRequiredAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class =>
        await SendAsync(HttpMethod.Get, path, null, type, cancellationToken) ?? throw EmptyResponse(path);

    private Task SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken) =>
        SendAsync<object>(method, path, content, null, nullWhenNotFound: false, TimeSpan.Zero, cancellationToken);

    /// <summary>A call whose 404 is a refusal like any other (declares, deletes, reads that must find something).</summary>
    private Task<T?> SendAsync<T>(
        HttpMethod method,
        string path,
        HttpContent? content,
        JsonTypeInfo<T> resultType,
        CancellationToken cancellationToken,
        TimeSpan extraTime = default)
        where T : class =>
        SendAsync(method, path, content, resultType, nullWhenNotFound: false, extraTime, cancellationToken);

    /// <summary>
    /// One request: the result (null for 204, or for a plain 404 when <paramref name="nullWhenNotFound"/>),
    /// or the service's refusal rethrown.
    /// </summary>
    private async Task<T?> SendAsync<T>(
        HttpMethod method,
        string path,
        HttpContent? content,
        JsonTypeInfo<T>? resultType,
        bool nullWhenNotFound,
        TimeSpan extraTime,
        CancellationToken cancellationToken)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout + extraTime);
        using var request = new HttpRequestMessage(method, path) { Content = content };
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                if (resultType is null || response.StatusCode == HttpStatusCode.NoContent)
                {
                    return null;
                }

                return await response.Content.ReadFromJsonAsync(resultType, timeout.Token);
            }

            if (nullWhenNotFound && response.StatusCode == HttpStatusCode.NotFound)
            {
                var problem = await ReadProblemAsync(response, timeout.Token);
                if (problem?.ReplyCode is null)
                {
                    return null;
                }

                throw new MetadataException((ushort)problem.ReplyCode.Value, problem.Detail ?? "");
            }

            await ThrowForProblemAsync(response, $"{method} {path}", timeout.Token);
            return null; // not reached
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the metadata service did not answer {method} {path} within {RequestTimeout + extraTime}");
        }
    }

    private static async Task ThrowForProblemAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var problem = await ReadProblemAsync(response, cancellationToken);
        if (problem?.ReplyCode is { } replyCode)
        {
            throw new MetadataException((ushort)replyCode, problem.Detail ?? "");
        }

        var reason = problem?.Detail ?? problem?.Title ?? response.ReasonPhrase;
        throw new HttpRequestException($"{what}: {(int)response.StatusCode} {reason}", null, response.StatusCode);
    }

    private static async Task<ApiProblem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/problem+json" or "application/json"))
        {
            return null;
        }

        try
        {
            return await response.Content.ReadFromJsonAsync(Json.ApiProblem, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
