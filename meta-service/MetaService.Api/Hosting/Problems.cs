using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace MetaService.Api.Hosting;

/// <summary>
/// Problem responses (RFC 9457). A store refusal keeps its AMQP reply code in "replyCode" and its
/// explanation verbatim in "detail"; its HTTP status follows what the refusal means:
/// 403 access-refused and 530 not-allowed → 403, 404 → 404, 405 resource-locked → 423 Locked,
/// 406 precondition-failed → 409 Conflict, 503 command-invalid (and anything else) → 400.
/// </summary>
internal static class Problems
{
    public static int HttpStatusFor(ushort replyCode) => replyCode switch
    {
        MetadataException.AccessRefused => StatusCodes.Status403Forbidden,
        MetadataException.NotFound => StatusCodes.Status404NotFound,
        MetadataException.ResourceLocked => StatusCodes.Status423Locked,
        MetadataException.PreconditionFailed => StatusCodes.Status409Conflict,
        MetadataException.NotAllowed => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status400BadRequest, // 503 command-invalid and the rest: the request was wrong
    };

    public static IResult From(MetadataException exception)
    {
        var status = HttpStatusFor(exception.ReplyCode);
        var problem = new ApiProblem(
            $"urn:amqp:reply-code:{exception.ReplyCode}",
            ReplyText(exception.ReplyCode),
            status,
            exception.Message,
            exception.ReplyCode);
        return Write(problem);
    }

    /// <summary>A plain 404 (no reply code): the resource is absent, which a client reads as null.</summary>
    public static IResult NotFound(string detail) =>
        Write(new ApiProblem("about:blank", "Not Found", StatusCodes.Status404NotFound, detail));

    public static IResult BadRequest(string detail) => Status(StatusCodes.Status400BadRequest, detail);

    public static IResult Status(int status, string detail) =>
        Write(new ApiProblem("about:blank", ReasonPhrases.GetReasonPhrase(status), status, detail));

    public static IResult Unauthorized() =>
        Write(new ApiProblem("about:blank", "Unauthorized", StatusCodes.Status401Unauthorized, "a valid bearer token is required"));

    public static IResult InternalError() =>
        Write(new ApiProblem("about:blank", "Internal Server Error", StatusCodes.Status500InternalServerError));

    public static IResult Unavailable(string detail) =>
        Write(new ApiProblem("about:blank", "Service Unavailable", StatusCodes.Status503ServiceUnavailable, detail));

    private static IResult Write(ApiProblem problem) =>
        TypedResults.Json(problem, MetaServiceJsonContext.Default.ApiProblem, "application/problem+json", problem.Status);

    private static string ReplyText(ushort replyCode) => replyCode switch
    {
        MetadataException.AccessRefused => "ACCESS_REFUSED",
        MetadataException.NotFound => "NOT_FOUND",
        MetadataException.ResourceLocked => "RESOURCE_LOCKED",
        MetadataException.PreconditionFailed => "PRECONDITION_FAILED",
        MetadataException.NotAllowed => "NOT_ALLOWED",
        503 => "COMMAND_INVALID",
        _ => $"AMQP {replyCode}",
    };
}
