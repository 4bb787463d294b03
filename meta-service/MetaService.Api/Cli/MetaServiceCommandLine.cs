using System.CommandLine;
using System.Globalization;
using MetaService.Api.Hosting;

namespace MetaService.Api.Cli;

/// <summary>
/// The executable's command line. Without a command it runs the service; <c>export-definitions</c> and
/// <c>import-definitions</c> move RabbitMQ definitions files in and out, either straight through the
/// database (the same <c>--database</c> / <c>--sqlite</c> / <c>--data-dir</c> switches as the service) or
/// through a running service (<c>--remote URL --token T</c>). Every switch falls back to its <c>META_</c>
/// environment variable.
/// </summary>
internal static partial class MetaServiceCommandLine
{
    private static readonly Option<string?> UrlsOption = new("--urls")
    {
        Description = "Kestrel URLs, e.g. http://0.0.0.0:15680 (META_URLS)",
    };

    private static readonly Option<string?> BindOption = new("--bind") { Description = "listen address, default 0.0.0.0 (META_BIND)" };

    private static readonly Option<int?> PortOption = new("--port")
    {
        Description = $"HTTP port, default {MetaServiceOptions.DefaultPort}; 0 = any free port (META_PORT)",
    };

    private static readonly Option<string?> DatabaseOption = new("--database")
    {
        Description = "PostgreSQL connection string (META_DATABASE); without it the store is SQLite",
        Recursive = true,
    };

    private static readonly Option<string?> SqliteOption = new("--sqlite")
    {
        Description = "SQLite database file, default <data-dir>/metadata.db (META_SQLITE)",
        Recursive = true,
    };

    private static readonly Option<string?> DataDirOption = new("--data-dir")
    {
        Description = "directory of the default SQLite file, default ./data (META_DATA_DIR)",
        Recursive = true,
    };

    private static readonly Option<string?> TokenOption = new("--token")
    {
        Description = "API bearer token: required to serve, and to reach a --remote service (META_TOKEN)",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "The metadata service of the AMQP log gateway: vhosts, users, permissions, topology, policies and their change feed.")
        {
            UrlsOption, BindOption, PortOption, DatabaseOption, SqliteOption, DataDirOption, TokenOption,
        };
        root.SetAction(RunServiceAsync);
        AddDefinitionsCommands(root);
        return root;
    }

    private static async Task<int> RunServiceAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var options = ServiceOptions(parse);
        if (string.IsNullOrEmpty(options.Token))
        {
            await Console.Error.WriteLineAsync("an API token is required: --token or META_TOKEN");
            return 2;
        }

        await using var app = await MetaServiceApp.CreateAsync(options, cancellationToken: cancellationToken);
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    internal static MetaServiceOptions ServiceOptions(ParseResult parse)
    {
        var defaults = new MetaServiceOptions();
        var port = parse.GetValue(PortOption) ?? ParsePort(Environment.GetEnvironmentVariable("META_PORT")) ?? defaults.Port;
        return new MetaServiceOptions
        {
            Urls = Value(parse, UrlsOption, "META_URLS"),
            Bind = Value(parse, BindOption, "META_BIND") ?? defaults.Bind,
            Port = port,
            Database = Value(parse, DatabaseOption, "META_DATABASE"),
            Sqlite = Value(parse, SqliteOption, "META_SQLITE"),
            DataDir = Value(parse, DataDirOption, "META_DATA_DIR") ?? defaults.DataDir,
            Token = Value(parse, TokenOption, "META_TOKEN") ?? "",
        };
    }

    private static string? Value(ParseResult parse, Option<string?> option, string environmentVariable)
    {
        var value = parse.GetValue(option);
        if (string.IsNullOrEmpty(value))
        {
            value = Environment.GetEnvironmentVariable(environmentVariable);
        }

        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static int? ParsePort(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
}
