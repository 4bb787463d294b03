using Microsoft.AspNetCore.WebUtilities;

namespace Controller.Service.Hosting;

/// <summary>A request the controller cannot act on (missing or invalid field, bad query value): 400 with <see cref="Exception.Message"/> as detail.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

/// <summary>RFC 9457 problem answers (what <c>Controller.Contracts.ControllerProblem</c> reads on the client side).</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Status(StatusCodes.Status400BadRequest, detail);

    public static IResult NotFound(string detail) => Status(StatusCodes.Status404NotFound, detail);

    public static IResult Unauthorized() => Status(StatusCodes.Status401Unauthorized, "a valid bearer token is required");

    public static IResult Status(int status, string? detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status));
}
