using System.Collections.Concurrent;
using Gateway.Host;
using Gateway.Server.Metrics;
using MetaService.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace TestSupport;

/// <summary>
/// A real gateway in this process on a free loopback port, wired exactly as Gateway.Host wires it.
/// Optionally on a <see cref="FakeTimeProvider"/>, so heartbeat and timeout tests advance time
/// instead of sleeping. Log lines are captured for assertions on event ids.
/// </summary>
public sealed class GatewayFixture : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDir;
    private readonly bool _ownsDataDir;

    private GatewayFixture(WebApplication app, string dataDir, bool ownsDataDir, FakeTimeProvider? time, CapturingLoggerProvider logs)
    {
        _app = app;
        _dataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        Time = time;
        Logs = logs;
        Port = app.GetAmqpPort();
        MetricsUrl = app.GetMetricsUrl();
        Metrics = app.Services.GetRequiredService<GatewayMetrics>();
        Metadata = app.Services.GetRequiredService<IMetadataStore>();
        Log = app.Services.GetRequiredService<Gateway.Log.IMessageLog>();
        Topology = app.Services.GetRequiredService<Gateway.Broker.Topology.TopologyService>();
        Traffic = app.Services.GetRequiredService<Gateway.Server.Control.ITrafficControl>();
    }

    /// <summary>The gateway's traffic control, as the controller's agent resolves it (tests apply states directly).</summary>
    public Gateway.Server.Control.ITrafficControl Traffic { get; }

    /// <summary>The gateway's topology: its queues' state, policies and delay store.</summary>
    public Gateway.Broker.Topology.TopologyService Topology { get; }

    /// <summary>The gateway's message log (the embedded engine in the fixture's data directory).</summary>
    public Gateway.Log.IMessageLog Log { get; }

    /// <summary>Where this gateway keeps its metadata and log.</summary>
    public string DataDir => _dataDir;

    /// <summary>The gateway's metadata store (embedded SQLite in the fixture's data directory by default).</summary>
    public IMetadataStore Metadata { get; }

    public int Port { get; }

    /// <summary>Every endpoint Kestrel bound (AMQP, AMQPS, metrics).</summary>
    public IReadOnlyList<string> ListeningAddresses => _app.GetListeningAddresses();

    /// <summary>The gateway's Prometheus scrape URL (on a free port), or null when a test turned metrics off.</summary>
    public Uri? MetricsUrl { get; }

    public string AmqpUri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>A RabbitMQ.Client factory for this gateway; recovery off so failures surface in the test.</summary>
    public RabbitMQ.Client.ConnectionFactory ClientFactory(string user = "guest", string password = "guest", string vhost = "/") => new()
    {
        HostName = "127.0.0.1",
        Port = Port,
        UserName = user,
        Password = password,
        VirtualHost = vhost,
        AutomaticRecoveryEnabled = false,
    };

    public FakeTimeProvider? Time { get; }

    public GatewayMetrics Metrics { get; }

    public CapturingLoggerProvider Logs { get; }

    public static Task<GatewayFixture> StartAsync(bool fakeTime = false, params string[] extraArgs) =>
        StartOnDataDirAsync(dataDir: null, fakeTime, extraArgs);

    /// <summary>Starts a gateway whose services a test adds to first (e.g. a fake the gateway resolves lazily).</summary>
    public static Task<GatewayFixture> StartWithServicesAsync(Action<IServiceCollection> configureServices, params string[] extraArgs) =>
        StartCoreAsync(dataDir: null, fakeTime: false, configureServices, extraArgs);

    /// <summary>The gateway's service provider, for a test that needs what it resolved.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a gateway on <paramref name="dataDir"/> (kept after dispose, for restart tests) or on a fresh temporary one.</summary>
    public static Task<GatewayFixture> StartOnDataDirAsync(string? dataDir, bool fakeTime = false, params string[] extraArgs) =>
        StartCoreAsync(dataDir, fakeTime, configureServices: null, extraArgs);

    private static async Task<GatewayFixture> StartCoreAsync(string? dataDir, bool fakeTime, Action<IServiceCollection>? configureServices, string[] extraArgs)
    {
        bool ownsDataDir = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("gateway-test-").FullName;
        var time = fakeTime ? new FakeTimeProvider(DateTimeOffset.UtcNow) : null;
        var logs = new CapturingLoggerProvider();
        string[] args = ["--port", "0", "--metrics-port", "0", "--bind", "127.0.0.1", "--data-dir", dataDir, .. extraArgs];
        var app = await GatewayApplication.BuildAsync(args, builder =>
        {
            if (time is not null)
            {
                builder.Services.AddSingleton<TimeProvider>(time);
            }

            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            configureServices?.Invoke(builder.Services);
        });
        await app.StartAsync();
        return new GatewayFixture(app, dataDir, ownsDataDir, time, logs);
    }

    /// <summary>
    /// Opens a connection that the server is expected to close during the handshake (e.g. a refused
    /// vhost) and returns why. RabbitMQ.Client 7.1 either throws from CreateConnectionAsync or hands
    /// back the connection before it reads the close that answers connection.open (it does the same
    /// against RabbitMQ), so both shapes are read here.
    /// </summary>
    public static async Task<RabbitMQ.Client.Events.ShutdownEventArgs?> OpenAndGetCloseReasonAsync(RabbitMQ.Client.ConnectionFactory factory)
    {
        try
        {
            var connection = await factory.CreateConnectionAsync();
            await WaitUntilAsync(() => !connection.IsOpen);
            return connection.CloseReason;
        }
        catch (Exception ex)
        {
            for (var inner = ex; inner is not null; inner = inner.InnerException)
            {
                if (inner is RabbitMQ.Client.Exceptions.OperationInterruptedException interrupted)
                {
                    return interrupted.ShutdownReason;
                }
            }

            throw;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds (server-side effects are asynchronous).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met in time{(because is null ? "" : ": " + because)}");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (!_ownsDataDir)
        {
            return;
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Captures log entries for assertions: a count per event id for the whole run, and the most
/// recent entries only, so a churn test of 10,000 connections does not grow the heap it measures.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private const int RecentCapacity = 2000;
    private readonly ConcurrentQueue<LogEntry> _recent = new();
    private readonly ConcurrentDictionary<int, int> _countsByEventId = new();

    public IReadOnlyCollection<LogEntry> Entries => _recent;

    public bool Contains(int eventId) => _countsByEventId.ContainsKey(eventId);

    public int Count(int eventId) => _countsByEventId.GetValueOrDefault(eventId);

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogEntry entry)
    {
        _countsByEventId.AddOrUpdate(entry.EventId, 1, (_, n) => n + 1);
        _recent.Enqueue(entry);
        while (_recent.Count > RecentCapacity && _recent.TryDequeue(out _))
        {
        }
    }

    private sealed class CapturingLogger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), exception));
    }
}

public sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);
