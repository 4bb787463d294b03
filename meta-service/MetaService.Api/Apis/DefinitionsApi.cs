using System.Text.Json;
using MetaService.Api.Hosting;
using MetaService.Api.Logging;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>
/// RabbitMQ definitions, as RabbitMQ's management API serves them: <c>GET /api/definitions</c> exports the
/// whole store (users with their password hashes, so they can be imported elsewhere), <c>POST /api/definitions</c>
/// imports a document and answers what it did (counts per section and warnings).
/// </summary>
internal static class DefinitionsApi
{
    /// <summary>A definitions file of a large RabbitMQ deployment is far bigger than Kestrel's 30 MB default.</summary>
    private const long MaxDocumentBytes = 512L * 1024 * 1024;

    public static RouteGroupBuilder MapDefinitionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/definitions");
        group.MapGet("/", ExportAsync);
        group.MapPost("/", ImportAsync).WithMetadata(new RequestSizeLimitAttribute(MaxDocumentBytes));
        return group;
    }

    private static async Task<IResult> ExportAsync(
        [FromServices] IMetadataStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var definitions = await DefinitionsExporter.ExportAsync(store, cancellationToken);
        MetaServiceLog.DefinitionsExported(loggers.CreateLogger(typeof(DefinitionsApi).FullName!));
        return TypedResults.Json(definitions, DefinitionsJsonContext.Default.RabbitMqDefinitions);
    }

    private static async Task<IResult> ImportAsync(
        HttpContext context, [FromServices] IMetadataStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        RabbitMqDefinitions definitions;
        try
        {
            definitions = await RabbitMqDefinitions.ReadAsync(context.Request.Body, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"not a RabbitMQ definitions document (at {e.Path ?? "$"})");
        }

        var result = await DefinitionsImporter.ImportAsync(store, definitions, cancellationToken);
        MetaServiceLog.DefinitionsImported(loggers.CreateLogger(typeof(DefinitionsApi).FullName!), DefinitionsSummary.Describe(result));
        return TypedResults.Json(result, MetaServiceJsonContext.Default.DefinitionsImportResult);
    }
}
