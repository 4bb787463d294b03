using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>
/// Bindings: <c>/api/bindings</c>. A binding is identified by all its fields (arguments included), so
/// bind (PUT) and unbind (DELETE) both carry the whole binding as the JSON body; both are idempotent.
/// </summary>
internal static class BindingsApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapBindingsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/bindings");
        group.MapGet("/", ListAsync);
        group.MapPut("/", BindAsync);
        group.MapDelete("/", UnbindAsync);
        return group;
    }

    /// <summary>All bindings, or one vhost's (<c>?vhost=</c>), from a consistent snapshot.</summary>
    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, string? vhost, CancellationToken cancellationToken)
    {
        var snapshot = await store.GetSnapshotAsync(cancellationToken);
        IReadOnlyList<BindingRecord> bindings = [.. snapshot.Bindings.Where(b => vhost is null || b.VirtualHost == vhost)];
        return TypedResults.Json(bindings, Json.IReadOnlyListBindingRecord);
    }

    private static async Task<IResult> BindAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var binding = await RequestBody.ReadAsync(context.Request, Json.BindingRecord, cancellationToken);
        await store.BindAsync(binding, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> UnbindAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var binding = await RequestBody.ReadAsync(context.Request, Json.BindingRecord, cancellationToken);
        await store.UnbindAsync(binding, cancellationToken);
        return TypedResults.NoContent();
    }
}
