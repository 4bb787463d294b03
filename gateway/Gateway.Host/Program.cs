using Gateway.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var app = await GatewayApplication.BuildAsync(args);
await app.StartAsync();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Host");
foreach (var address in app.GetListeningAddresses())
{
#pragma warning disable CA1848 // one start-up line; a LoggerMessage delegate buys nothing here
    logger.LogInformation("Gateway listening on {Address}", address.Replace("http://", "amqp://", StringComparison.Ordinal));
#pragma warning restore CA1848
}

await app.WaitForShutdownAsync();
