using System.CommandLine;

namespace Gwctl;

/// <summary>gwctl's command tree and its entry point, shared by Program and the in-process tests.</summary>
internal static class GwctlCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("gwctl: operate AMQP log gateways and their controller. " + ExitCodes.Summary);
        ControllerCommands.AddTo(root);
        RedriveCommand.AddTo(root);
        return root;
    }

    /// <summary>
    /// Parses and runs one command line. A command line that does not parse exits with 2 (usage) and one
    /// line per error on <paramref name="error"/>, where System.CommandLine would exit with 1, which gwctl keeps
    /// for "controller unreachable".
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // Usually one error; the first names where help is.
            await error.WriteLineAsync($"gwctl: {parse.Errors[0].Message} (see gwctl --help)");
            foreach (var parseError in parse.Errors.Skip(1))
            {
                await error.WriteLineAsync("gwctl: " + parseError.Message);
            }

            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
