using Gateway.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var app = await GatewayApplication.BuildAsync(args);
await app.StartAsync();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Host");
var metricsUrl = app.GetMetricsUrl();
#pragma warning disable CA1848 // start-up lines; a LoggerMessage delegate buys nothing here
foreach (var address in app.GetListeningAddresses().Where(a => new Uri(a).Port != metricsUrl?.Port))
{
    logger.LogInformation("Gateway listening on {Address}", address.Replace("http://", "amqp://", StringComparison.Ordinal));
}

if (metricsUrl is not null)
{
    logger.LogInformation("Prometheus metrics on {Url}", metricsUrl);
}
#pragma warning restore CA1848

await app.WaitForShutdownAsync();
