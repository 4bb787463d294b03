using System.CommandLine;
using System.Text.Json;
using MetaService.Api.Hosting;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;

namespace MetaService.Api.Cli;

// export-definitions / import-definitions: RabbitMQ definitions files in and out of the metadata store,
// straight through the database or through a running service (--remote). "-" is stdout / stdin.
internal static partial class MetaServiceCommandLine
{
    private static readonly Option<string?> RemoteOption = new("--remote")
    {
        Description = "URL of a running metadata service to go through instead of the database (META_REMOTE)",
    };

    private static void AddDefinitionsCommands(RootCommand root)
    {
        var exportFile = new Argument<string>("file") { Description = "where to write the definitions JSON; - for stdout" };
        var export = new Command(
            "export-definitions", "Write the metadata as a RabbitMQ definitions file (users keep their password hashes).")
        {
            exportFile, RemoteOption,
        };
        export.SetAction((parse, cancellationToken) => ExportAsync(parse, parse.GetValue(exportFile)!, cancellationToken));
        root.Subcommands.Add(export);

        var importFile = new Argument<string>("file") { Description = "a RabbitMQ definitions JSON file; - for stdin" };
        var import = new Command(
            "import-definitions",
            "Import a RabbitMQ definitions file (as rabbitmqctl import_definitions); importing it again changes nothing.")
        {
            importFile, RemoteOption,
        };
        import.SetAction((parse, cancellationToken) => ImportAsync(parse, parse.GetValue(importFile)!, cancellationToken));
        root.Subcommands.Add(import);
    }

    private static async Task<int> ExportAsync(ParseResult parse, string file, CancellationToken cancellationToken)
    {
        return await RunAsync(parse, cancellationToken, async (remote, store) =>
        {
            var definitions = remote is not null
                ? await remote.ExportDefinitionsAsync(cancellationToken)
                : await DefinitionsExporter.ExportAsync(store!, cancellationToken);
            if (file == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await definitions.WriteAsync(stdout, indented: true, cancellationToken);
            }
            else
            {
                // Write beside the target and move it into place, so a failed export never leaves half a file.
                var temporary = file + ".tmp";
                await using (var stream = File.Create(temporary))
                {
                    await definitions.WriteAsync(stream, indented: true, cancellationToken);
                }

                File.Move(temporary, file, overwrite: true);
                await Console.Error.WriteLineAsync(
                    $"exported {definitions.VirtualHosts.Count} vhosts, {definitions.Users.Count} users, "
                    + $"{definitions.Exchanges.Count} exchanges, {definitions.Queues.Count} queues, "
                    + $"{definitions.Bindings.Count} bindings, {definitions.Policies.Count} policies to {file}");
            }

            return 0;
        });
    }

    private static async Task<int> ImportAsync(ParseResult parse, string file, CancellationToken cancellationToken)
    {
        RabbitMqDefinitions definitions;
        try
        {
            await using var input = file == "-" ? Console.OpenStandardInput() : File.OpenRead(file);
            definitions = await RabbitMqDefinitions.ReadAsync(input, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            await Console.Error.WriteLineAsync($"cannot read {file}: {e.Message}");
            return 1;
        }

        return await RunAsync(parse, cancellationToken, async (remote, store) =>
        {
            var result = remote is not null
                ? await remote.ImportDefinitionsAsync(definitions, cancellationToken)
                : await DefinitionsImporter.ImportAsync(store!, definitions, cancellationToken);
            foreach (var warning in result.Warnings)
            {
                await Console.Error.WriteLineAsync($"warning: {warning}");
            }

            await Console.Out.WriteLineAsync($"imported {file}: {DefinitionsSummary.Describe(result)}");
            return 0;
        });
    }

    /// <summary>Runs a definitions command against the remote service or the database, turning refusals into exit code 1.</summary>
    private static async Task<int> RunAsync(
        ParseResult parse, CancellationToken cancellationToken, Func<MetaServiceClient?, IMetadataStore?, Task<int>> command)
    {
        var options = ServiceOptions(parse);
        var remoteUrl = Value(parse, RemoteOption, "META_REMOTE");
        try
        {
            if (remoteUrl is not null)
            {
                if (!Uri.TryCreate(remoteUrl, UriKind.Absolute, out var baseAddress))
                {
                    await Console.Error.WriteLineAsync($"--remote: '{remoteUrl}' is not an absolute URL");
                    return 2;
                }

                if (string.IsNullOrEmpty(options.Token))
                {
                    await Console.Error.WriteLineAsync("--remote needs the service's API token: --token or META_TOKEN");
                    return 2;
                }

                using var client = new MetaServiceClient(baseAddress, options.Token);
                return await command(client, null);
            }

            var store = await MetadataStores.OpenAsync(options, cancellationToken, seedDefaults: false);
            return await command(null, store);
        }
        catch (MetadataException e)
        {
            await Console.Error.WriteLineAsync($"refused ({e.ReplyCode}): {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"the metadata service at {remoteUrl} failed: {e.Message}");
            return 1;
        }
    }
}
