using System.Diagnostics;
using System.Text.Json.Nodes;

namespace MetaService.Definitions.Tests.Support;

/// <summary>
/// The real RabbitMQ that CI runs on 127.0.0.1:5672 (scripts/start-rabbitmq.sh; RABBITMQ_PORT picks
/// another node), driven through rabbitmqctl as the rabbitmq user. Started here when it does not answer,
/// and then stopped again afterwards; a node that was already running is left as found.
/// </summary>
public sealed class RabbitMqNode : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);
    private bool _startedHere;

    public string RepositoryRoot { get; } = FindRepositoryRoot();

    public async Task InitializeAsync()
    {
        if (await ShellAsync("node_answers") is { ExitCode: 0 })
        {
            return;
        }

        var start = await RunAsync("bash", [Path.Combine(RepositoryRoot, "scripts", "start-rabbitmq.sh")]);
        if (start.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"RabbitMQ is not running and scripts/start-rabbitmq.sh failed (exit {start.ExitCode}); these tests need "
                + $"Debian's rabbitmq-server and root:\n{start.Output}");
        }

        _startedHere = true;
    }

    public async Task DisposeAsync()
    {
        if (_startedHere)
        {
            await RunAsync("bash", [Path.Combine(RepositoryRoot, "scripts", "stop-rabbitmq.sh")]);
        }
    }

    /// <summary>rabbitmqctl with the given arguments against the node; returns exit code and output.</summary>
    public Task<CommandResult> CtlAsync(params string[] arguments) =>
        ShellAsync("as_rabbitmq /usr/sbin/rabbitmqctl -q -n \"$RABBITMQ_NODENAME\" \"$@\"", arguments);

    /// <summary>Like <see cref="CtlAsync"/>, failing the test on a non-zero exit.</summary>
    public async Task<string> CtlOkAsync(params string[] arguments)
    {
        var result = await CtlAsync(arguments);
        Assert.True(result.ExitCode == 0, $"rabbitmqctl {string.Join(' ', arguments)} failed (exit {result.ExitCode}):\n{result.Output}");
        return result.Output;
    }

    /// <summary>A list_* command with <c>--formatter json</c>, parsed.</summary>
    public async Task<JsonArray> ListAsync(params string[] arguments)
    {
        string[] command = [.. arguments, "--formatter", "json"];
        var result = await CtlAsync(command);
        Assert.True(result.ExitCode == 0, $"rabbitmqctl {string.Join(' ', command)} failed (exit {result.ExitCode}):\n{result.Output}");
        return JsonNode.Parse(result.Stdout.Trim() is { Length: > 0 } text ? text : "[]")!.AsArray();
    }

    /// <summary>rabbitmqctl's argument tables ([[name, type, value], …]) as a JSON object of name → value.</summary>
    public static JsonObject ArgumentTable(JsonNode? table)
    {
        var result = new JsonObject();
        foreach (var entry in table?.AsArray() ?? [])
        {
            var triple = entry!.AsArray();
            result[(string)triple[0]!] = triple[2]?.DeepClone();
        }

        return result;
    }

    /// <summary>Runs a bash snippet with scripts/rabbitmq-env.sh sourced ($1… are <paramref name="arguments"/>).</summary>
    private Task<CommandResult> ShellAsync(string snippet, IReadOnlyList<string>? arguments = null)
    {
        var script = $". \"{Path.Combine(RepositoryRoot, "scripts", "rabbitmq-env.sh")}\"\n{snippet}";
        return RunAsync("bash", ["-c", script, "rabbitmqctl", .. arguments ?? []]);
    }

    private static async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {CommandTimeout}");
        }

        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "start-rabbitmq.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no scripts/start-rabbitmq.sh above {AppContext.BaseDirectory}");
    }
}

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}
