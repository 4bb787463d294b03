using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Hosting;

/// <summary>
/// Builds the gateway process: Kestrel with an AMQP listener (and AMQPS when a certificate is
/// configured), no HTTP. Shared by Gateway.Host and the in-process test fixture so both run the
/// same wiring.
/// </summary>
public static class GatewayApplication
{
    /// <summary>Command-line switches; each is also a configuration key and a GATEWAY_* variable.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--bind"] = nameof(GatewayOptions.Bind),
        ["--port"] = nameof(GatewayOptions.Port),
        ["--tls-port"] = nameof(GatewayOptions.TlsPort),
        ["--tls-cert"] = nameof(GatewayOptions.TlsCertificatePath),
        ["--tls-key"] = nameof(GatewayOptions.TlsKeyPath),
        ["--tls-cert-password"] = nameof(GatewayOptions.TlsCertificatePassword),
        ["--data-dir"] = nameof(GatewayOptions.DataDir),
        ["--metadata"] = nameof(GatewayOptions.Metadata),
        ["--heartbeat"] = nameof(GatewayOptions.HeartbeatSeconds),
        ["--frame-max"] = nameof(GatewayOptions.FrameMax),
        ["--channel-max"] = nameof(GatewayOptions.ChannelMax),
    };

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddEnvironmentVariables("GATEWAY_");
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary(kv => kv.Key, kv => kv.Value));
        configure?.Invoke(builder);

        var options = ReadOptions(builder.Configuration);
        Directory.CreateDirectory(options.DataDir);
        builder.Services.AddAmqpGateway(options);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.WebHost.UseKestrel(kestrel =>
        {
            var address = IPAddress.Parse(options.Bind);
            kestrel.Listen(address, options.Port, listen => listen.UseAmqp());
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

        return builder.Build();
    }

    /// <summary>Binds flat configuration keys (Port, DataDir, …) onto the immutable options record.</summary>
    public static GatewayOptions ReadOptions(IConfiguration configuration)
    {
        var defaults = new GatewayOptions();
        return defaults with
        {
            Bind = configuration[nameof(GatewayOptions.Bind)] ?? defaults.Bind,
            Port = Parse(configuration, nameof(GatewayOptions.Port), defaults.Port),
            TlsPort = Parse(configuration, nameof(GatewayOptions.TlsPort), defaults.TlsPort),
            TlsCertificatePath = configuration[nameof(GatewayOptions.TlsCertificatePath)] ?? defaults.TlsCertificatePath,
            TlsKeyPath = configuration[nameof(GatewayOptions.TlsKeyPath)] ?? defaults.TlsKeyPath,
            TlsCertificatePassword = configuration[nameof(GatewayOptions.TlsCertificatePassword)] ?? defaults.TlsCertificatePassword,
            DataDir = configuration[nameof(GatewayOptions.DataDir)] ?? defaults.DataDir,
            Metadata = configuration[nameof(GatewayOptions.Metadata)] ?? defaults.Metadata,
            HeartbeatSeconds = Parse(configuration, nameof(GatewayOptions.HeartbeatSeconds), defaults.HeartbeatSeconds),
            FrameMax = Parse(configuration, nameof(GatewayOptions.FrameMax), defaults.FrameMax),
            ChannelMax = Parse(configuration, nameof(GatewayOptions.ChannelMax), defaults.ChannelMax),
        };
    }

    // ConfigurationBinder.GetValue is reflection-based (not trim-safe); these are all plain numbers.
    private static T Parse<T>(IConfiguration configuration, string key, T fallback)
        where T : IParsable<T> =>
        configuration[key] is { } text ? T.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>The AMQP endpoints Kestrel actually bound (port 0 resolves to the chosen port).</summary>
    public static IReadOnlyList<string> GetListeningAddresses(this WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password) =>
        keyPath is not null
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(path, password);
}
