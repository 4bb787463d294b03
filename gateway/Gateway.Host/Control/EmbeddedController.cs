using Controller.Service.Hosting;
using Gateway.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Host.Control;

/// <summary>
/// <c>--controller embedded</c>: the controller service in the gateway's own process, its state in SQLite in the
/// gateway's data directory, so a single gateway can be paused and throttled with gwctl without a separate
/// deployment (the design's "controller in-process" for embedded defaults). The gateway's agent talks to it
/// over loopback HTTP like any other controller, so the path is the one production uses.
/// </summary>
public sealed class EmbeddedController : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedController(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>Where the controller listens (for the agent and for gwctl's <c>--controller</c>).</summary>
    public Uri Url { get; }

    public static async Task<EmbeddedController> StartAsync(GatewayOptions options)
    {
        string token = options.ControllerToken
            ?? throw new InvalidOperationException("--controller-token (GATEWAY_CONTROLLERTOKEN) is required with --controller embedded: gwctl presents it");
        var app = await ControllerApp.CreateAsync(new ControllerOptions
        {
            Bind = options.Bind,
            Port = options.ControllerPort,
            DataDir = options.DataDir,
            Token = token,
            InstanceId = "embedded",
        },
        // One log format for the whole process.
        GatewayApplication.AddGatewayConsole);
        await app.StartAsync();
        var bound = ControllerApp.ListeningUrls(app)[0];
        // An any-address bind is reached over loopback from inside the process.
        var url = new UriBuilder(bound) { Host = bound.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : bound.Host }.Uri;
        return new EmbeddedController(app, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
