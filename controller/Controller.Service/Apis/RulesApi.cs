using System.Globalization;
using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Service.Hosting;
using Controller.Service.Logging;
using Microsoft.AspNetCore.Mvc;

namespace Controller.Service.Apis;

/// <summary>
/// The operators' rules: consume pauses (<see cref="ControllerRoutes.Pauses"/>), queue consume limits
/// (<see cref="ControllerRoutes.ConsumeLimits"/>) and publish limits (<see cref="ControllerRoutes.PublishLimits"/>).
/// Each change is stored in the database before it is answered, logged with the caller's address, and wakes
/// every gateway's state poll.
/// </summary>
internal static class RulesApi
{
    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    public static void MapRulesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ControllerRoutes.Pauses, (ClusterState cluster) => TypedResults.Json(cluster.Rules.Pauses.ToArray(), Json.PauseRuleArray));
        app.MapPost(ControllerRoutes.Pauses, PauseAsync);
        app.MapDelete(ControllerRoutes.Pauses, ResumeAsync);

        app.MapGet(ControllerRoutes.ConsumeLimits, (ClusterState cluster) => TypedResults.Json(cluster.Rules.ConsumeLimits.ToArray(), Json.ConsumeLimitArray));
        app.MapPut(ControllerRoutes.ConsumeLimits, SetConsumeLimitAsync);
        app.MapDelete(ControllerRoutes.ConsumeLimits, RemoveConsumeLimitAsync);

        app.MapGet(ControllerRoutes.PublishLimits, (ClusterState cluster) => TypedResults.Json(cluster.Rules.PublishLimits.ToArray(), Json.PublishLimitArray));
        app.MapPut(ControllerRoutes.PublishLimits, SetPublishLimitAsync);
        app.MapDelete(ControllerRoutes.PublishLimits, RemovePublishLimitAsync);
    }

    private static async Task<IResult> PauseAsync(
        HttpContext context, [FromBody] PauseRequest request, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        var canonical = new PauseRequest(
            Requests.RequiredName(request.VHost, "vhost"),
            Requests.RequiredName(request.Queue, "queue"),
            Requests.ClientAddress(request.ClientAddress),
            Requests.OptionalName(PauseScopes.Optional(request.ConnectionName), "connectionName"));
        var (rule, created) = await cluster.PauseAsync(canonical, cancellationToken);
        if (created)
        {
            ControllerLog.AdminChange(logger, Caller(context), $"paused queue '{rule.Queue}' in vhost '{rule.VHost}'{Scope(rule.ClientAddress, rule.ConnectionName)} (rule {rule.Id})");
        }

        return TypedResults.Json(rule, Json.PauseRule, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> ResumeAsync(HttpContext context, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var vhost = Requests.RequiredName(Requests.Query(request, "vhost").Value, "vhost");
        var queue = Requests.RequiredName(Requests.Query(request, "queue").Value, "queue");
        var address = Requests.Query(request, "clientAddress");
        var name = Requests.Query(request, "connectionName");
        address = (address.Given, Requests.ClientAddress(address.Value));
        name = (name.Given, PauseScopes.Optional(name.Value));
        var removed = await cluster.ResumeAsync(vhost, queue, address, name, cancellationToken);
        if (removed.Count == 0)
        {
            return Problems.NotFound($"no pause rule of queue '{queue}' in vhost '{vhost}' matches{Scope(address.Value, name.Value)}");
        }

        ControllerLog.AdminChange(logger, Caller(context), $"resumed queue '{queue}' in vhost '{vhost}': removed {removed.Count} rule(s) [{string.Join(", ", removed.Select(r => r.Id + Scope(r.ClientAddress, r.ConnectionName)))}]");
        return TypedResults.Json(new RemovedReply(removed.Count), Json.RemovedReply);
    }

    private static async Task<IResult> SetConsumeLimitAsync(
        HttpContext context, [FromBody] ConsumeLimit limit, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        limit = new ConsumeLimit(Requests.RequiredName(limit.VHost, "vhost"), Requests.RequiredName(limit.Queue, "queue"), Requests.Rate(limit.MessagesPerSecond));
        var (stored, created) = await cluster.SetConsumeLimitAsync(limit, cancellationToken);
        ControllerLog.AdminChange(logger, Caller(context), $"consume limit of queue '{limit.Queue}' in vhost '{limit.VHost}' set to {Rate(limit.MessagesPerSecond)}/s");
        return TypedResults.Json(stored, Json.ConsumeLimit, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> RemoveConsumeLimitAsync(HttpContext context, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        var vhost = Requests.RequiredName(Requests.Query(context.Request, "vhost").Value, "vhost");
        var queue = Requests.RequiredName(Requests.Query(context.Request, "queue").Value, "queue");
        if (!await cluster.RemoveConsumeLimitAsync(vhost, queue, cancellationToken))
        {
            return Problems.NotFound($"queue '{queue}' in vhost '{vhost}' has no consume limit");
        }

        ControllerLog.AdminChange(logger, Caller(context), $"consume limit of queue '{queue}' in vhost '{vhost}' removed");
        return TypedResults.Json(new RemovedReply(1), Json.RemovedReply);
    }

    private static async Task<IResult> SetPublishLimitAsync(
        HttpContext context, [FromBody] PublishLimit limit, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        limit = new PublishLimit(Requests.RequiredName(limit.VHost, "vhost"), Requests.OptionalName(limit.Exchange, "exchange"), Requests.Rate(limit.MessagesPerSecond));
        var (stored, created) = await cluster.SetPublishLimitAsync(limit, cancellationToken);
        ControllerLog.AdminChange(logger, Caller(context), $"publish limit of {Target(limit.VHost, limit.Exchange)} set to {Rate(limit.MessagesPerSecond)}/s");
        return TypedResults.Json(stored, Json.PublishLimit, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> RemovePublishLimitAsync(HttpContext context, ClusterState cluster, ILogger<ClusterState> logger, CancellationToken cancellationToken)
    {
        var vhost = Requests.RequiredName(Requests.Query(context.Request, "vhost").Value, "vhost");
        // Absent: the whole vhost's limit; present and empty: the default exchange's.
        var exchange = Requests.OptionalName(Requests.Query(context.Request, "exchange").Value, "exchange");
        if (!await cluster.RemovePublishLimitAsync(vhost, exchange, cancellationToken))
        {
            return Problems.NotFound($"{Target(vhost, exchange)} has no publish limit");
        }

        ControllerLog.AdminChange(logger, Caller(context), $"publish limit of {Target(vhost, exchange)} removed");
        return TypedResults.Json(new RemovedReply(1), Json.RemovedReply);
    }

    private static string? Caller(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    private static string Rate(double rate) => rate.ToString("G", CultureInfo.InvariantCulture);

    private static string Target(string vhost, string? exchange) => exchange switch
    {
        null => $"vhost '{vhost}'",
        "" => $"the default exchange of vhost '{vhost}'",
        _ => $"exchange '{exchange}' in vhost '{vhost}'",
    };

    private static string Scope(string? clientAddress, string? connectionName) =>
        (clientAddress, connectionName) switch
        {
            (null, null) => "",
            (_, null) => $" for clients at {clientAddress}",
            (null, _) => $" for connection '{connectionName}'",
            _ => $" for connection '{connectionName}' at {clientAddress}",
        };
}
