using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Controller.Contracts;
using RabbitMQ.Client;

namespace Cluster.EndToEnd.Tests;

/// <summary>
/// One cluster for the whole collection, started by scripts/cluster.sh exactly as an operator would (free
/// loopback ports, a temporary directory, the binaries of this test run's build configuration), and
/// destroyed at the end. Every process's log is printed when the start fails.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly Dictionary<string, string> _environment;

    public ClusterFixture()
    {
        RepositoryRoot = FindRepositoryRoot();
        Directory = Path.Combine(Path.GetTempPath(), "cluster-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Token = "e2e-" + Guid.NewGuid().ToString("N")[..12];
        var ports = FreePorts(9);
        Gateway1Port = ports[0];
        Gateway2Port = ports[1];
        ControllerUrls = [new Uri($"http://127.0.0.1:{ports[2]}"), new Uri($"http://127.0.0.1:{ports[3]}")];
        _environment = new Dictionary<string, string>
        {
            ["CLUSTER_DIR"] = Directory,
            ["CLUSTER_TOKEN"] = Token,
            ["CONFIGURATION"] = Configuration,
            ["SKIP_BUILD"] = "1",
            ["GATEWAY_1_PORT"] = Port(ports[0]),
            ["GATEWAY_2_PORT"] = Port(ports[1]),
            ["CONTROLLER_A_PORT"] = Port(ports[2]),
            ["CONTROLLER_B_PORT"] = Port(ports[3]),
            ["META_PORT"] = Port(ports[4]),
            ["PG_PORT"] = Port(ports[5]),
            ["GATEWAY_1_METRICS_PORT"] = Port(ports[6]),
            ["GATEWAY_2_METRICS_PORT"] = Port(ports[7]),
            // A short lease keeps the fail-over test short; production defaults to 5 s.
            ["CONTROLLER_LEASE_SECONDS"] = "3",
        };
        MetricsUrls = [new Uri($"http://127.0.0.1:{ports[6]}/metrics"), new Uri($"http://127.0.0.1:{ports[7]}/metrics")];
        Controller = new ControllerClient(ControllerUrls, Token);
    }

    public string RepositoryRoot { get; }

    public string Directory { get; }

    public string Token { get; }

    public int Gateway1Port { get; }

    public int Gateway2Port { get; }

    public IReadOnlyList<Uri> ControllerUrls { get; }

    public IReadOnlyList<Uri> MetricsUrls { get; }

    /// <summary>Follows the leader across both controller instances.</summary>
    public ControllerClient Controller { get; }

    /// <summary>The build configuration of this test assembly; the cluster runs the binaries of the same build.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public async Task InitializeAsync()
    {
        var (exitCode, output) = await ScriptAsync("start");
        if (exitCode != 0)
        {
            var logs = string.Join(
                "\n",
                System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "logs"))
                    .Select(f => $"--- {Path.GetFileName(f)}\n{string.Join('\n', File.ReadLines(f).TakeLast(40))}"));
            await ScriptAsync("destroy");
            throw new InvalidOperationException($"scripts/cluster.sh start failed ({exitCode}):\n{output}\n{logs}");
        }

        // Both gateways registered with the leader and enforce its current state.
        await WaitUntilAsync(
            async () => (await Controller.GetNodesAsync()).Count(n => n.Live && n.InSync) == 2,
            TimeSpan.FromSeconds(30),
            "both gateways live and in sync with the controller");
    }

    public async Task DisposeAsync()
    {
        Controller.Dispose();
        await ScriptAsync("destroy");
    }

    /// <summary>Runs scripts/cluster.sh with this cluster's settings; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> ScriptAsync(params string[] arguments)
    {
        var (exitCode, output, error) = await RunAsync("bash", [Path.Combine(RepositoryRoot, "scripts", "cluster.sh"), .. arguments], _environment, TimeSpan.FromMinutes(3));
        return (exitCode, output + error);
    }

    /// <summary>Runs the gwctl executable of this build against both controllers.</summary>
    public Task<(int ExitCode, string Output, string Error)> GwctlAsync(params string[] arguments)
    {
        var gwctl = Path.Combine(RepositoryRoot, "controller", "Gwctl", "bin", Configuration, "net10.0", "gwctl.dll");
        var environment = new Dictionary<string, string>
        {
            ["GWCTL_CONTROLLER"] = string.Join(',', ControllerUrls),
            ["GWCTL_TOKEN"] = Token,
        };
        return RunAsync("dotnet", [gwctl, .. arguments], environment, TimeSpan.FromSeconds(60));
    }

    /// <summary>A connection to gateway 1 or 2, optionally from another loopback source address (Linux routes all of 127/8 to lo).</summary>
    public Task<IConnection> ConnectAsync(int gateway, string? connectionName = null, IPAddress? sourceAddress = null)
    {
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = gateway == 1 ? Gateway1Port : Gateway2Port,
            ClientProvidedName = connectionName,
        };
        if (sourceAddress is not null)
        {
            factory.SocketFactory = family =>
            {
                var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Bind(new IPEndPoint(sourceAddress, 0));
                return new TcpClientAdapter(socket);
            };
        }

        return factory.CreateConnectionAsync();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (ControllerException) when (deadline.Elapsed < timeout)
            {
                // A controller between leaders answers 503 for a moment; keep asking.
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string file, string[] arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, await output, await error);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above the test assembly");
    }

    /// <summary>Distinct free loopback ports, all held open until every one is chosen so none repeats.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
