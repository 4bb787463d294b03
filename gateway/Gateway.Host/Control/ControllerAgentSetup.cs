using System.Net;
using Controller.Contracts;
using Gateway.Server.Control;
using Gateway.Server.Hosting;
using Gateway.Server.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Host.Control;

/// <summary>Wires the control agent into a gateway configured with <c>--controller</c>.</summary>
public static class ControllerAgentSetup
{
    /// <summary>How long one heartbeat or status call may take: a controller answers in milliseconds, and a dead instance must not hold up the move to the next.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Registers the agent and its metrics. Checks the options now, so a wrong URL or a missing token stops the
    /// gateway at start with a clear message rather than leaving it running without its controller.
    /// </summary>
    public static IServiceCollection AddControllerAgent(this IServiceCollection services, GatewayOptions options, GatewayListeners listeners)
    {
        IReadOnlyList<Uri> controllers;
        try
        {
            controllers = ControllerClient.ParseUrls(options.Controller ?? "");
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"--controller: {e.Message}", e);
        }

        if (controllers.Count == 0)
        {
            throw new InvalidOperationException("--controller needs at least one http(s) URL of a controller");
        }

        string token = options.ControllerToken
            ?? throw new InvalidOperationException("--controller-token (GATEWAY_CONTROLLERTOKEN) is required with --controller");
        if (options.ControllerHeartbeatMs <= 0)
        {
            throw new InvalidOperationException($"--controller-heartbeat-ms must be positive, not {options.ControllerHeartbeatMs}");
        }

        var timing = ControllerAgentTiming.Default with { HeartbeatInterval = TimeSpan.FromMilliseconds(options.ControllerHeartbeatMs) };
        var startedAt = DateTimeOffset.UtcNow;
        // The controller's protocol runs on wall-clock time even when a test gives the broker a fake clock.
        services.AddSingleton(sp => new ControllerAgentMetrics(sp.GetRequiredService<GatewayMetrics>().Registry, TimeProvider.System));
        services.AddSingleton(sp => new ControlStateFile(
            Path.Combine(options.DataDir, ControlStateFile.FileName),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Controller")));
        services.AddHostedService(sp =>
        {
            var lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lifetime.ApplicationStarted.Register(() => listening.TrySetResult());
            return new ControllerAgent(
                new ControllerClient(controllers, token, requestTimeout: RequestTimeout),
                // Looked up when the agent starts: the enforcement is whatever the gateway registered by then.
                () => sp.GetService<ITrafficControl>(),
                () => Describe(options, listeners, startedAt),
                timing,
                sp.GetRequiredService<ControllerAgentMetrics>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Controller"),
                TimeProvider.System,
                listening.Task,
                sp.GetRequiredService<ControlStateFile>());
        });
        return services;
    }

    /// <summary>
    /// Who this gateway is to the controller, once its listeners are bound: node id (default host:AMQP port),
    /// the AMQP endpoint others use (default bind:port, an any-address bind named by the host name) and
    /// the metrics URL on the same host.
    /// </summary>
    public static GatewayIdentity Describe(GatewayOptions options, GatewayListeners listeners, DateTimeOffset startedAt)
    {
        string hostName = Dns.GetHostName();
        int amqpPort = listeners.Amqp?.IPEndPoint?.Port ?? options.Port;
        string endpoint = options.Advertise ?? HostPort(IsAnyAddress(options.Bind) ? hostName : options.Bind, amqpPort);
        string? metricsUrl = null;
        if (listeners.Metrics?.IPEndPoint is { } metrics)
        {
            string metricsHost = IsAnyAddress(options.Bind) ? HostOf(endpoint) : options.Bind;
            metricsUrl = $"http://{HostPort(metricsHost, metrics.Port)}/metrics";
        }

        return new GatewayIdentity(options.NodeId ?? $"{hostName}:{amqpPort}", endpoint, metricsUrl, startedAt);
    }

    private static bool IsAnyAddress(string bind) =>
        IPAddress.TryParse(bind, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any));

    /// <summary>host:port, with an IPv6 literal in brackets.</summary>
    private static string HostPort(string host, int port) =>
        IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{host}]:{port}"
            : $"{host}:{port}";

    /// <summary>The host of a host:port endpoint ("[::1]:5672" gives "::1"); the whole text when it has no port.</summary>
    private static string HostOf(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        string host = colon > 0 && !endpoint.EndsWith(']') ? endpoint[..colon] : endpoint;
        return host.Trim('[', ']');
    }
}
