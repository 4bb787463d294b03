using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>Policies: <c>/api/policies/{vhost}/{name}</c>.</summary>
internal static class PoliciesApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapPoliciesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/policies");
        group.MapGet("/", ListAsync);
        group.MapGet("/{vhost}/{name}", GetAsync);
        group.MapPut("/{vhost}/{name}", PutAsync);
        group.MapDelete("/{vhost}/{name}", DeleteAsync);
        return group;
    }

    /// <summary>All policies, or one vhost's (<c>?vhost=</c>), from a consistent snapshot.</summary>
    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, string? vhost, CancellationToken cancellationToken)
    {
        var snapshot = await store.GetSnapshotAsync(cancellationToken);
        IReadOnlyList<PolicyRecord> policies = [.. snapshot.Policies.Where(p => vhost is null || p.VirtualHost == vhost)];
        return TypedResults.Json(policies, Json.IReadOnlyListPolicyRecord);
    }

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var vhost = RouteNames.Get(context, "vhost");
        var name = RouteNames.Get(context, "name");
        var snapshot = await store.GetSnapshotAsync(cancellationToken);
        var policy = snapshot.Policies.FirstOrDefault(p => p.VirtualHost == vhost && p.Name == name);
        return policy is null
            ? Problems.NotFound($"no policy '{name}' in vhost '{vhost}'")
            : TypedResults.Json(policy, Json.PolicyRecord);
    }

    private static async Task<IResult> PutAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, Json.PolicyBody, cancellationToken);
        var policy = new PolicyRecord(
            RouteNames.Get(context, "vhost"),
            RouteNames.Get(context, "name"),
            body.Pattern,
            body.ApplyTo,
            body.Priority,
            body.Definition ?? []);
        await store.PutPolicyAsync(policy, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        await store.DeletePolicyAsync(RouteNames.Get(context, "vhost"), RouteNames.Get(context, "name"), cancellationToken);
        return TypedResults.NoContent();
    }
}
