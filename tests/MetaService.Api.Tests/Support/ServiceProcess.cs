using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MetaService.Contracts;

namespace MetaService.Api.Tests.Support;

/// <summary>
/// The built service executable (MetaService.Api.dll, copied beside the tests by the project reference)
/// run as a child process, as an operator would run it: configured by switches and META_ variables.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private ServiceProcess(Process process, StringBuilder output, Uri baseAddress)
    {
        _process = process;
        _output = output;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public MetaServiceClient CreateClient() => new(BaseAddress, ApiServer.Token);

    /// <summary>Starts the service on 127.0.0.1:<paramref name="port"/> and waits until /healthz answers.</summary>
    /// <param name="switches">Command-line switches (the database).</param>
    /// <param name="port">The port; passed as --urls unless <paramref name="passUrls"/> is false (then the environment must say it).</param>
    /// <param name="environment">META_ variables besides META_TOKEN, which is always set.</param>
    public static async Task<ServiceProcess> StartAsync(
        IEnumerable<string> switches, int port, IReadOnlyDictionary<string, string>? environment = null, bool passUrls = true)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        var output = new StringBuilder();
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["META_TOKEN"] = ApiServer.Token };
        IEnumerable<string> arguments = passUrls ? ["--urls", baseAddress.AbsoluteUri.TrimEnd('/'), .. switches] : switches;
        var process = Start(arguments, output, variables);
        var service = new ServiceProcess(process, output, baseAddress);
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the service exited with {process.ExitCode}:\n{service.Output}");
            }

            try
            {
                if ((await http.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode == HttpStatusCode.OK)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new TimeoutException($"the service did not answer /healthz within 60 s:\n{service.Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs the executable to completion (a command-line command) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var output = new StringBuilder();
        using var process = Start(arguments, output, environment ?? new Dictionary<string, string>());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the command did not finish in 2 minutes:\n{output}");
        }

        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>Kills the process outright (no graceful shutdown): what a crash or an OOM kill looks like.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    /// <summary>A port that was free a moment ago, to start (and later restart) a service on.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(IEnumerable<string> arguments, StringBuilder output, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MetaService.Api.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Only what the test sets: no META_ variable of the developer's shell leaks in.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("META_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
