using MetaService.Api.Logging;
using MetaService.Contracts;

namespace MetaService.Api.Hosting;

/// <summary>
/// Turns a store refusal (<see cref="MetadataException"/>) into its problem response and a bad request
/// into a 400, for every endpoint of the /api group.
/// </summary>
internal sealed class StoreRefusalFilter(ILogger<StoreRefusalFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        try
        {
            return await next(context);
        }
        catch (MetadataException e)
        {
            MetaServiceLog.StoreRefused(logger, request.Method, request.Path, e.ReplyCode, e.Message);
            return Problems.From(e);
        }
        catch (BadRequestException e)
        {
            MetaServiceLog.BadRequest(logger, request.Method, request.Path, e.Message);
            return Problems.BadRequest(e.Message);
        }
    }
}
