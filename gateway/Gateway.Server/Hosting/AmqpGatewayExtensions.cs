using Gateway.Broker.Topology;
using Gateway.Server.Connections;
using Gateway.Server.Control;
using Gateway.Server.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Hosting;

public static class AmqpGatewayExtensions
{
    /// <summary>
    /// Registers what the AMQP listener needs. An <see cref="Security.ICredentialStore"/> must be registered
    /// (the host registers one over the metadata store); TimeProvider defaults to the system clock.
    /// </summary>
    public static IServiceCollection AddAmqpGateway(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        // With a topology registered (the host), its queues' gauges are part of the scrape.
        services.TryAddSingleton(sp => new GatewayMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetService<TopologyService>()));
        // The controller's agent resolves ITrafficControl to apply desired state; connections use the same instance.
        services.TryAddSingleton(sp => new TrafficControl(
            sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<TrafficControl>>(),
            sp.GetService<TopologyService>()));
        services.TryAddSingleton<ITrafficControl>(sp => sp.GetRequiredService<TrafficControl>());
        services.TryAddSingleton<AmqpConnectionHandler>();
        return services;
    }

    /// <summary>Serves AMQP 0-9-1 on this listener (plain, or after UseHttps for AMQPS).</summary>
    public static IConnectionBuilder UseAmqp(this IConnectionBuilder builder)
    {
        if (builder.ApplicationServices.GetService<AmqpConnectionHandler>() is null)
        {
            throw new InvalidOperationException($"Call services.{nameof(AddAmqpGateway)}() before UseAmqp().");
        }

        return builder.UseConnectionHandler<AmqpConnectionHandler>();
    }
}
