using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>
/// <c>GET /api/snapshot</c>: everything at one revision, what a gateway loads before following the change
/// feed. Users carry their password hashes (a gateway checks logins against them), never passwords.
/// </summary>
internal static class SnapshotApi
{
    public static RouteHandlerBuilder MapSnapshotApi(this RouteGroupBuilder api) =>
        api.MapGet("/snapshot", async ([FromServices] IMetadataStore store, CancellationToken cancellationToken) =>
            TypedResults.Json(await store.GetSnapshotAsync(cancellationToken), MetaServiceJsonContext.Default.MetadataSnapshot));
}
