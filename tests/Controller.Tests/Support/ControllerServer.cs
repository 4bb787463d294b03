using System.Net.Http.Headers;
using Controller.Contracts;
using Controller.Service.Cluster;
using Controller.Service.Hosting;
using Controller.Service.Leadership;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Controller.Tests.Support;

/// <summary>
/// One controller instance, in-process on 127.0.0.1 (port 0), with its log captured, an authenticated raw
/// <see cref="HttpClient"/> and a <see cref="ControllerClient"/> pointed at it alone.
/// </summary>
public sealed class ControllerServer : IAsyncDisposable
{
    public const string Token = "controller-test-token-7d1e";

    private readonly WebApplication _app;
    private bool _stopped;

    private ControllerServer(WebApplication app, Uri baseAddress, LogCapture logs, string instanceId)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
        InstanceId = instanceId;
        Http = CreateHttpClient(Token);
        Client = new ControllerClient([baseAddress], Token);
    }

    public Uri BaseAddress { get; }

    public string InstanceId { get; }

    public LogCapture Logs { get; }

    /// <summary>Raw HTTP with the right token.</summary>
    public HttpClient Http { get; }

    public ControllerClient Client { get; }

    internal LeaderElection Leadership => _app.Services.GetRequiredService<LeaderElection>();

    internal ClusterState Cluster => _app.Services.GetRequiredService<ClusterState>();

    internal T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <param name="select">Chooses the database (and any other option) on top of the test defaults.</param>
    /// <param name="time">Replaces the system clock (lease deadlines, delays), so a test can move time itself.</param>
    public static async Task<ControllerServer> StartAsync(Func<ControllerOptions, ControllerOptions> select, string? instanceId = null, TimeProvider? time = null)
    {
        var logs = new LogCapture();
        instanceId ??= "ctl-" + Guid.NewGuid().ToString("N")[..8];
        var options = select(new ControllerOptions
        {
            Bind = "127.0.0.1",
            Port = 0,
            Token = Token,
            InstanceId = instanceId,
            LeaseDuration = TimeSpan.FromSeconds(3),
            NodeTimeout = TimeSpan.FromSeconds(5),
        });
        var app = await ControllerApp.CreateAsync(
            options,
            logging =>
            {
                logging.ClearProviders();
                logging.SetMinimumLevel(LogLevel.Information);
                logging.AddProvider(logs);
            },
            time);
        await app.StartAsync();
        return new ControllerServer(app, ControllerApp.ListeningUrls(app).Single(), logs, instanceId);
    }

    /// <summary>Starts an instance and waits until it leads (it is alone, or the others are gone).</summary>
    public static async Task<ControllerServer> StartLeaderAsync(Func<ControllerOptions, ControllerOptions> select, TimeProvider? time = null)
    {
        var server = await StartAsync(select, time: time);
        await server.WaitUntilLeaderAsync(TimeSpan.FromSeconds(20));
        return server;
    }

    public Task WaitUntilLeaderAsync(TimeSpan timeout) =>
        Eventually.TrueAsync(() => Leadership.IsLeader, timeout, $"{InstanceId} leading");

    public HttpClient CreateHttpClient(string? token)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    /// <summary>A clean stop: the instance steps down and releases its lease.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await StopAsync();
        await _app.DisposeAsync();
    }
}
