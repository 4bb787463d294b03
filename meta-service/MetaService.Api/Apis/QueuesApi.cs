using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>Queues and their log topics: <c>/api/queues/{vhost}/{name}</c>; a PUT is queue.declare, a DELETE queue.delete.</summary>
internal static class QueuesApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapQueuesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/queues");
        group.MapGet("/", ListAsync);
        group.MapGet("/{vhost}/{name}", GetAsync);
        group.MapPut("/{vhost}/{name}", DeclareAsync);
        group.MapDelete("/{vhost}/{name}", DeleteAsync);
        return group;
    }

    /// <summary>All queues, or one vhost's (<c>?vhost=</c>), from a consistent snapshot.</summary>
    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, string? vhost, CancellationToken cancellationToken)
    {
        var snapshot = await store.GetSnapshotAsync(cancellationToken);
        IReadOnlyList<QueueRecord> queues = [.. snapshot.Queues.Where(q => vhost is null || q.VirtualHost == vhost)];
        return TypedResults.Json(queues, Json.IReadOnlyListQueueRecord);
    }

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var vhost = RouteNames.Get(context, "vhost");
        var name = RouteNames.Get(context, "name");
        var queue = await store.GetQueueAsync(vhost, name, cancellationToken);
        return queue is null
            ? Problems.NotFound($"no queue '{name}' in vhost '{vhost}'")
            : TypedResults.Json(queue, Json.QueueRecord);
    }

    /// <summary>Declares (<c>?passive=true</c>: only checks it exists); answers the stored queue with its topic.</summary>
    private static async Task<IResult> DeclareAsync(
        HttpContext context, [FromServices] IMetadataStore store, bool passive = false, CancellationToken cancellationToken = default)
    {
        var body = passive
            ? await RequestBody.ReadOptionalAsync(context.Request, Json.QueueBody, cancellationToken) ?? new QueueBody()
            : await RequestBody.ReadAsync(context.Request, Json.QueueBody, cancellationToken);
        var queue = new QueueRecord(
            RouteNames.Get(context, "vhost"),
            RouteNames.Get(context, "name"),
            body.Durable,
            body.AutoDelete,
            body.Arguments ?? [],
            body.ExclusiveOwner);
        var stored = await store.DeclareQueueAsync(queue, passive, cancellationToken);
        return TypedResults.Json(stored, Json.QueueRecord);
    }

    /// <summary>Deletes with its bindings: 200 with the deleted queue, or 204 when there was none.</summary>
    private static async Task<IResult> DeleteAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteQueueAsync(RouteNames.Get(context, "vhost"), RouteNames.Get(context, "name"), cancellationToken);
        return deleted is null ? TypedResults.NoContent() : TypedResults.Json(deleted, Json.QueueRecord);
    }
}
