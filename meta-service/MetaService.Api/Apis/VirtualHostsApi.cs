using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>Virtual hosts: <c>/api/vhosts</c>.</summary>
internal static class VirtualHostsApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapVirtualHostsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/vhosts");
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetAsync);
        group.MapPut("/{name}", PutAsync);
        group.MapDelete("/{name}", DeleteAsync);
        return group;
    }

    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, CancellationToken cancellationToken) =>
        TypedResults.Json(await store.ListVirtualHostsAsync(cancellationToken), Json.IReadOnlyListVirtualHostRecord);

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var name = RouteNames.Get(context, "name");
        var vhost = await store.GetVirtualHostAsync(name, cancellationToken);
        return vhost is null ? Problems.NotFound($"no vhost '{name}'") : TypedResults.Json(vhost, Json.VirtualHostRecord);
    }

    /// <summary>Creates or updates; the body (description, tags) is optional, as in RabbitMQ.</summary>
    private static async Task<IResult> PutAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var name = RouteNames.Get(context, "name");
        var body = await RequestBody.ReadOptionalAsync(context.Request, Json.VirtualHostBody, cancellationToken) ?? new VirtualHostBody();
        await store.PutVirtualHostAsync(new VirtualHostRecord(name, body.Description, body.Tags), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        await store.DeleteVirtualHostAsync(RouteNames.Get(context, "name"), cancellationToken);
        return TypedResults.NoContent();
    }
}
