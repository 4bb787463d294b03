using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>Exchanges: <c>/api/exchanges/{vhost}/{name}</c>; a PUT is exchange.declare, a DELETE exchange.delete.</summary>
internal static class ExchangesApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapExchangesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/exchanges");
        group.MapGet("/", ListAsync);
        group.MapGet("/{vhost}/{name}", GetAsync);
        group.MapPut("/{vhost}/{name}", DeclareAsync);
        group.MapDelete("/{vhost}/{name}", DeleteAsync);
        return group;
    }

    /// <summary>All exchanges, or one vhost's (<c>?vhost=</c>), from a consistent snapshot.</summary>
    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, string? vhost, CancellationToken cancellationToken)
    {
        var snapshot = await store.GetSnapshotAsync(cancellationToken);
        IReadOnlyList<ExchangeRecord> exchanges = [.. snapshot.Exchanges.Where(e => vhost is null || e.VirtualHost == vhost)];
        return TypedResults.Json(exchanges, Json.IReadOnlyListExchangeRecord);
    }

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var vhost = RouteNames.Get(context, "vhost");
        var name = RouteNames.Get(context, "name");
        var exchange = await store.GetExchangeAsync(vhost, name, cancellationToken);
        return exchange is null
            ? Problems.NotFound($"no exchange '{name}' in vhost '{vhost}'")
            : TypedResults.Json(exchange, Json.ExchangeRecord);
    }

    /// <summary>
    /// Declares (<c>?passive=true</c>: only checks it exists; the body may then be omitted); answers the
    /// stored exchange.
    /// </summary>
    private static async Task<IResult> DeclareAsync(
        HttpContext context, [FromServices] IMetadataStore store, bool passive = false, CancellationToken cancellationToken = default)
    {
        var body = passive
            ? await RequestBody.ReadOptionalAsync(context.Request, Json.ExchangeBody, cancellationToken) ?? new ExchangeBody()
            : await RequestBody.ReadAsync(context.Request, Json.ExchangeBody, cancellationToken);
        var exchange = new ExchangeRecord(
            RouteNames.Get(context, "vhost"),
            RouteNames.Get(context, "name"),
            body.Type,
            body.Durable,
            body.AutoDelete,
            body.Internal,
            body.Arguments ?? []);
        var stored = await store.DeclareExchangeAsync(exchange, passive, cancellationToken);
        return TypedResults.Json(stored, Json.ExchangeRecord);
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext context,
        [FromServices] IMetadataStore store,
        [FromQuery(Name = "if_unused")] bool ifUnused = false,
        CancellationToken cancellationToken = default)
    {
        await store.DeleteExchangeAsync(RouteNames.Get(context, "vhost"), RouteNames.Get(context, "name"), ifUnused, cancellationToken);
        return TypedResults.NoContent();
    }
}
