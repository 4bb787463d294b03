using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>A user's configure/write/read regexes in a vhost: <c>/api/permissions/{vhost}/{user}</c>.</summary>
internal static class PermissionsApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapPermissionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/permissions");
        group.MapGet("/", ListAsync);
        group.MapGet("/{vhost}/{user}", GetAsync);
        group.MapPut("/{vhost}/{user}", PutAsync);
        group.MapDelete("/{vhost}/{user}", DeleteAsync);
        return group;
    }

    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, CancellationToken cancellationToken) =>
        TypedResults.Json(await store.ListPermissionsAsync(cancellationToken), Json.IReadOnlyListPermissionRecord);

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var vhost = RouteNames.Get(context, "vhost");
        var user = RouteNames.Get(context, "user");
        var permission = await store.GetPermissionAsync(user, vhost, cancellationToken);
        return permission is null
            ? Problems.NotFound($"no permissions for user '{user}' in vhost '{vhost}'")
            : TypedResults.Json(permission, Json.PermissionRecord);
    }

    private static async Task<IResult> PutAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, Json.PermissionBody, cancellationToken);
        var permission = new PermissionRecord(
            RouteNames.Get(context, "user"), RouteNames.Get(context, "vhost"), body.Configure, body.Write, body.Read);
        await store.SetPermissionAsync(permission, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        await store.ClearPermissionAsync(RouteNames.Get(context, "user"), RouteNames.Get(context, "vhost"), cancellationToken);
        return TypedResults.NoContent();
    }
}
