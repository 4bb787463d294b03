using MetaService.Api.Hosting;
using MetaService.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MetaService.Api.Tests.Support;

/// <summary>
/// The real metadata service, in-process on 127.0.0.1 (port 0 by default), with every log line captured
/// and a <see cref="MetaServiceClient"/> holding the right token.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    public const string Token = "test-token-5f0c2b1e";

    private readonly WebApplication _app;

    private ApiServer(WebApplication app, Uri baseAddress, LogCapture logs)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
        Client = new MetaServiceClient(baseAddress, Token);
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public LogCapture Logs { get; }

    /// <summary>The typed client, authenticated.</summary>
    public MetaServiceClient Client { get; }

    /// <summary>A bare HttpClient (no token) for raw HTTP checks.</summary>
    public HttpClient Http { get; }

    /// <summary>The store the service runs on (in this process).</summary>
    public IMetadataStore Store => _app.Services.GetRequiredService<IMetadataStore>();

    /// <param name="options">Store selection and tuning; Urls and Token are set here.</param>
    /// <param name="port">0 for any free port, or a port to come back on after a restart.</param>
    /// <param name="openStore">Replaces the store the options select.</param>
    public static async Task<ApiServer> StartAsync(
        MetaServiceOptions options, int port = 0, Func<CancellationToken, Task<IMetadataStore>>? openStore = null)
    {
        var logs = new LogCapture();
        options = options with { Urls = $"http://127.0.0.1:{port}", Token = Token };
        var app = await MetaServiceApp.CreateAsync(
            options,
            logging =>
            {
                logging.ClearProviders();
                logging.SetMinimumLevel(LogLevel.Trace);
                logging.AddProvider(logs);
            },
            openStore);
        await app.StartAsync();
        var address = MetaServiceApp.ListeningUrls(app).Single();
        return new ApiServer(app, address, logs);
    }

    public HttpClient CreateHttpClient(string? token)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
