using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gateway.Broker.Delivery;
using Gateway.Broker.Topology;
using Gateway.Host.Control;
using Gateway.Log;
using Gateway.Log.Commit;
using Gateway.Server.Control;
using Gateway.Server.Hosting;
using Gateway.Server.Metrics;
using Gateway.Server.Publishing;
using Gateway.Server.Security;
using MetaService.Contracts;
using MetaService.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Gateway.Host;

/// <summary>
/// The composition root: Kestrel with an AMQP listener (and AMQPS when a certificate is configured),
/// an HTTP listener for Prometheus' GET /metrics only (unless turned off), the metadata store chosen by <see cref="GatewayOptions.Metadata"/>, and the control agent when a controller is configured. Program.cs and
/// the in-process test fixture both build the gateway here, so tests run the shipped wiring.
/// </summary>
public static class GatewayApplication
{
    /// <summary>Command-line switches; each is also a configuration key and a GATEWAY_* variable.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--bind"] = nameof(GatewayOptions.Bind),
        ["--port"] = nameof(GatewayOptions.Port),
        ["--tls-port"] = nameof(GatewayOptions.TlsPort),
        ["--metrics-port"] = nameof(GatewayOptions.MetricsPort),
        ["--tls-cert"] = nameof(GatewayOptions.TlsCertificatePath),
        ["--tls-key"] = nameof(GatewayOptions.TlsKeyPath),
        ["--tls-cert-password"] = nameof(GatewayOptions.TlsCertificatePassword),
        ["--data-dir"] = nameof(GatewayOptions.DataDir),
        ["--metadata"] = nameof(GatewayOptions.Metadata),
        ["--metadata-token"] = nameof(GatewayOptions.MetadataToken),
        ["--heartbeat"] = nameof(GatewayOptions.HeartbeatSeconds),
        ["--frame-max"] = nameof(GatewayOptions.FrameMax),
        ["--channel-max"] = nameof(GatewayOptions.ChannelMax),
        ["--max-message-size"] = nameof(GatewayOptions.MaxMessageSize),
        ["--max-publish-bytes-in-flight"] = nameof(GatewayOptions.MaxPublishBytesInFlight),
        ["--consumer-timeout"] = nameof(GatewayOptions.ConsumerTimeoutMs),
        ["--controller"] = nameof(GatewayOptions.Controller),
        ["--controller-token"] = nameof(GatewayOptions.ControllerToken),
        ["--node-id"] = nameof(GatewayOptions.NodeId),
        ["--advertise"] = nameof(GatewayOptions.Advertise),
        ["--controller-heartbeat-ms"] = nameof(GatewayOptions.ControllerHeartbeatMs),
        ["--controller-port"] = nameof(GatewayOptions.ControllerPort),
    };

    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddEnvironmentVariables("GATEWAY_");
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary(kv => kv.Key, kv => kv.Value));
        configure?.Invoke(builder);

        var options = ReadOptions(builder.Configuration);
        Directory.CreateDirectory(options.DataDir);
        var (metadata, credentials, follower) = await OpenMetadataAsync(options);
        var log = EmbeddedMessageLog.Open(new CommitLogOptions { Directory = Path.Combine(options.DataDir, "log") });
        // Tests put a fake clock into the services before this point; message TTL and the consumer timeout run on it too.
        var time = builder.Services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider))?.ImplementationInstance as TimeProvider ?? TimeProvider.System;
        var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions
        {
            Time = time,
            ConsumerTimeout = options.ConsumerTimeoutMs > 0 ? TimeSpan.FromMilliseconds(options.ConsumerTimeoutMs) : null,
        });
        ILogger? queueLog = null;   // the logger exists once the app is built; a failure before that is not possible (no connections yet)
        var topology = new TopologyService(
            metadata,
            log,
            dispatcher,
            AmqpMessages.Format,
            time,
            (queue, error) =>
            {
                if (queueLog is not null)
                {
                    AmqpMessages.LogQueueWorkFailed(queueLog, queue, error);
                }
            });
        // Embedded metadata belongs to this gateway alone, so starting is a broker restart: transient
        // queues and exchanges and exclusive queues go, as when a RabbitMQ node boots.
        // A remote meta-service is shared with other gateways: their topology changes are followed.
        await topology.StartAsync(
            brokerRestarted: options.Metadata == GatewayOptions.EmbeddedMetadata,
            followSharedTopology: options.Metadata != GatewayOptions.EmbeddedMetadata);
        builder.Services.AddSingleton(metadata);
        builder.Services.AddSingleton(credentials);
        builder.Services.AddSingleton<IMessageLog>(log);
        builder.Services.AddSingleton(topology);
        builder.Services.AddSingleton(dispatcher);
        builder.Services.AddAmqpGateway(options);
        var listeners = new GatewayListeners();
        builder.Services.AddSingleton(listeners);
        EmbeddedController? embeddedController = null;
        if (options.Controller == GatewayOptions.EmbeddedController)
        {
            embeddedController = await EmbeddedController.StartAsync(options);
            builder.Services.AddSingleton(embeddedController);
            options = options with { Controller = embeddedController.Url.ToString() };
        }

        if (!string.IsNullOrWhiteSpace(options.Controller))
        {
            builder.Services.AddControllerAgent(options, listeners);
        }

        AddGatewayConsole(builder.Logging);
        builder.WebHost.UseKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.Bind);
            kestrel.Listen(address, options.Port, listen =>
            {
                listeners.Amqp = listen;
                listen.UseAmqp();
            });
            if (options.MetricsPort >= 0)
            {
                // Plain HTTP and nothing but /metrics: the AMQP listeners above never reach the HTTP pipeline.
                kestrel.Listen(address, options.MetricsPort, listen => listeners.Metrics = listen);
            }

            if (options.TlsCertificatePath is { } certificatePath)
            {
                var certificate = LoadCertificate(certificatePath, options.TlsKeyPath, options.TlsCertificatePassword);
                kestrel.Listen(address, options.TlsPort, listen =>
                {
                    listen.UseHttps(certificate);
                    listen.UseAmqp();
                });
            }
        });

        var app = builder.Build();
        // Before the listeners open: a gateway restarted while no controller answers enforces what it last received.
        app.Services.GetService<ControlStateFile>()?.Restore(app.Services.GetRequiredService<ITrafficControl>());
        if (options.MetricsPort >= 0)
        {
            app.MapMetrics("/metrics", app.Services.GetRequiredService<GatewayMetrics>().Registry);
        }

        queueLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Queues");
        if (follower is not null)
        {
            app.Lifetime.ApplicationStopping.Register(() => follower.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }

        app.Lifetime.ApplicationStopping.Register(() => topology.StopAsync().AsTask().GetAwaiter().GetResult());
        if (embeddedController is not null)
        {
            // After the gateway's own shutdown: its agent's last calls still find the controller.
            app.Lifetime.ApplicationStopped.Register(() => embeddedController.DisposeAsync().AsTask().GetAwaiter().GetResult());
        }

        // After the listener stopped (no more appends): a clean close checkpoints the log for a fast restart.
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            // The delay store's timer and mover stop first: a move must not start on a closing log (its pending
            // messages are recovered from the log at the next start).
            topology.Delays.DisposeAsync().AsTask().GetAwaiter().GetResult();
            dispatcher.Dispose();
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        });

        return app;
    }

    /// <summary>The process's log format (single-line, UTC timestamps), shared by the gateway and an embedded controller.</summary>
    internal static void AddGatewayConsole(ILoggingBuilder logging) =>
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });

    /// <summary>Binds flat configuration keys (Port, DataDir, …) onto the immutable options record.</summary>
    public static GatewayOptions ReadOptions(IConfiguration configuration)
    {
        var defaults = new GatewayOptions();
        return defaults with
        {
            Bind = configuration[nameof(GatewayOptions.Bind)] ?? defaults.Bind,
            Port = Parse(configuration, nameof(GatewayOptions.Port), defaults.Port),
            TlsPort = Parse(configuration, nameof(GatewayOptions.TlsPort), defaults.TlsPort),
            MetricsPort = Parse(configuration, nameof(GatewayOptions.MetricsPort), defaults.MetricsPort),
            TlsCertificatePath = configuration[nameof(GatewayOptions.TlsCertificatePath)] ?? defaults.TlsCertificatePath,
            TlsKeyPath = configuration[nameof(GatewayOptions.TlsKeyPath)] ?? defaults.TlsKeyPath,
            TlsCertificatePassword = configuration[nameof(GatewayOptions.TlsCertificatePassword)] ?? defaults.TlsCertificatePassword,
            DataDir = configuration[nameof(GatewayOptions.DataDir)] ?? defaults.DataDir,
            Metadata = configuration[nameof(GatewayOptions.Metadata)] ?? defaults.Metadata,
            MetadataToken = configuration[nameof(GatewayOptions.MetadataToken)] ?? defaults.MetadataToken,
            HeartbeatSeconds = Parse(configuration, nameof(GatewayOptions.HeartbeatSeconds), defaults.HeartbeatSeconds),
            FrameMax = Parse(configuration, nameof(GatewayOptions.FrameMax), defaults.FrameMax),
            ChannelMax = Parse(configuration, nameof(GatewayOptions.ChannelMax), defaults.ChannelMax),
            MaxMessageSize = Parse(configuration, nameof(GatewayOptions.MaxMessageSize), defaults.MaxMessageSize),
            MaxPublishBytesInFlight = Parse(configuration, nameof(GatewayOptions.MaxPublishBytesInFlight), defaults.MaxPublishBytesInFlight),
            ConsumerTimeoutMs = Parse(configuration, nameof(GatewayOptions.ConsumerTimeoutMs), defaults.ConsumerTimeoutMs),
            Controller = configuration[nameof(GatewayOptions.Controller)] ?? defaults.Controller,
            ControllerToken = configuration[nameof(GatewayOptions.ControllerToken)] ?? defaults.ControllerToken,
            NodeId = configuration[nameof(GatewayOptions.NodeId)] ?? defaults.NodeId,
            Advertise = configuration[nameof(GatewayOptions.Advertise)] ?? defaults.Advertise,
            ControllerHeartbeatMs = Parse(configuration, nameof(GatewayOptions.ControllerHeartbeatMs), defaults.ControllerHeartbeatMs),
            ControllerPort = Parse(configuration, nameof(GatewayOptions.ControllerPort), defaults.ControllerPort),
        };
    }

    /// <summary>
    /// "embedded": the metadata service's EF Core store in-process on SQLite in the data directory,
    /// seeded with RabbitMQ's first-boot defaults (vhost "/", guest/guest); logins read it directly.
    /// A URL: the remote meta-service (PostgreSQL behind it), which owns seeding; logins are checked
    /// against a copy kept by following its snapshot and change feed, since its API never hands out
    /// password hashes one user at a time.
    /// </summary>
    public static async Task<(IMetadataStore Store, ICredentialStore Credentials, MetadataFollower? Follower)> OpenMetadataAsync(GatewayOptions options)
    {
        if (options.Metadata == GatewayOptions.EmbeddedMetadata)
        {
            var store = await MetadataStoreFactory.CreateAsync(Path.Combine(options.DataDir, "metadata.db"), MetadataProvider.Sqlite);
            await store.EnsureDefaultsAsync();
            return (store, new MetadataCredentialStore(store, options.LoopbackUsers), null);
        }

        if (Uri.TryCreate(options.Metadata, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            var token = options.MetadataToken
                ?? throw new InvalidOperationException("--metadata-token (GATEWAY_METADATATOKEN) is required with a remote meta-service");
            var client = new MetaServiceClient(url, token);
            var credentials = new FollowedCredentialStore(options.LoopbackUsers);
            var follower = new MetadataFollower(client, credentials.ApplySnapshotAsync, credentials.ApplyChangeAsync);
            await follower.StartAsync();
            return (client, credentials, follower);
        }

        throw new InvalidOperationException($"--metadata must be 'embedded' or an http(s) URL of a meta-service, not '{options.Metadata}'");
    }

    // ConfigurationBinder.GetValue is reflection-based (not trim-safe); these are all plain numbers.
    private static T Parse<T>(IConfiguration configuration, string key, T fallback)
        where T : IParsable<T> =>
        configuration[key] is { } text ? T.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>The endpoints Kestrel actually bound, AMQP and metrics (port 0 resolves to the chosen port).</summary>
    public static IReadOnlyList<string> GetListeningAddresses(this WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>The plain AMQP port Kestrel bound (port 0 resolves to the chosen port), once started.</summary>
    public static int GetAmqpPort(this WebApplication app) =>
        app.Services.GetRequiredService<GatewayListeners>().Amqp!.IPEndPoint!.Port;

    /// <summary>The Prometheus scrape URL (http://bind:port/metrics) once started; null when metrics are off.</summary>
    public static Uri? GetMetricsUrl(this WebApplication app) =>
        app.Services.GetRequiredService<GatewayListeners>().Metrics?.IPEndPoint is { } endpoint
            ? new Uri($"http://{endpoint}/metrics")
            : null;

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password) =>
        keyPath is not null
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(path, password);
}

/// <summary>
/// Which Kestrel listener is which: with port 0 both the AMQP and the metrics listener report an http://
/// address, and Kestrel writes the bound port back into each one's options when it starts.
/// </summary>
public sealed class GatewayListeners
{
    public ListenOptions? Amqp { get; internal set; }

    public ListenOptions? Metrics { get; internal set; }
}
