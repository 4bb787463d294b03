using System.CommandLine;
using System.Globalization;
using Controller.Contracts;
using Controller.Service.Hosting;

namespace Controller.Service.Cli;

/// <summary>
/// The executable's command line: it runs the controller. Every switch falls back to its <c>CONTROLLER_</c>
/// environment variable (the switch wins), so containers configure it through the environment.
/// </summary>
internal static class ControllerCommandLine
{
    private static readonly Option<string?> BindOption = new("--bind") { Description = "listen address, default 0.0.0.0 (CONTROLLER_BIND)" };

    private static readonly Option<int?> PortOption = new("--port")
    {
        Description = $"HTTP port, default {ControllerRoutes.DefaultPort}; 0 = any free port (CONTROLLER_PORT)",
    };

    private static readonly Option<string?> DatabaseOption = new("--database")
    {
        Description = "PostgreSQL connection string of the metadata database (CONTROLLER_DATABASE); without it SQLite",
    };

    private static readonly Option<string?> SqliteOption = new("--sqlite")
    {
        Description = "SQLite database file, default <data-dir>/controller.db (CONTROLLER_SQLITE)",
    };

    private static readonly Option<string?> DataDirOption = new("--data-dir")
    {
        Description = "directory of the default SQLite file, default ./data (CONTROLLER_DATA_DIR)",
    };

    private static readonly Option<string?> TokenOption = new("--token")
    {
        Description = "API bearer token, required (CONTROLLER_TOKEN)",
    };

    private static readonly Option<string?> InstanceIdOption = new("--instance-id")
    {
        Description = "this instance's name in the leader lease, default hostname-pid (CONTROLLER_INSTANCE_ID)",
    };

    private static readonly Option<string?> AdvertiseUrlOption = new("--advertise-url")
    {
        Description = "URL others use to reach this instance, default http://<bind or 127.0.0.1>:<port> (CONTROLLER_ADVERTISE_URL)",
    };

    private static readonly Option<double?> LeaseSecondsOption = new("--lease-seconds")
    {
        Description = "leader lease length in seconds, renewed every third of it, default 5 (CONTROLLER_LEASE_SECONDS)",
    };

    private static readonly Option<double?> NodeTimeoutSecondsOption = new("--node-timeout-seconds")
    {
        Description = "a gateway silent for longer is lost, default 5 (CONTROLLER_NODE_TIMEOUT_SECONDS)",
    };

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "The controller of the AMQP log gateways: node registry, consume pause/resume and rate limits, leader election.")
        {
            BindOption, PortOption, DatabaseOption, SqliteOption, DataDirOption, TokenOption, InstanceIdOption,
            AdvertiseUrlOption, LeaseSecondsOption, NodeTimeoutSecondsOption,
        };
        root.SetAction(RunAsync);
        return root;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        ControllerOptions options;
        try
        {
            options = Options(parse, Environment.GetEnvironmentVariable);
            options.Validate();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        await using var app = await ControllerApp.CreateAsync(options, cancellationToken: cancellationToken);
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>The options from switches, else from <paramref name="environment"/> (CONTROLLER_*), else the defaults.</summary>
    internal static ControllerOptions Options(ParseResult parse, Func<string, string?> environment)
    {
        var defaults = new ControllerOptions();
        return new ControllerOptions
        {
            Bind = Text(parse, BindOption, environment, "CONTROLLER_BIND") ?? defaults.Bind,
            Port = parse.GetValue(PortOption) ?? Port(Number(environment, "CONTROLLER_PORT")) ?? defaults.Port,
            Database = Text(parse, DatabaseOption, environment, "CONTROLLER_DATABASE"),
            Sqlite = Text(parse, SqliteOption, environment, "CONTROLLER_SQLITE"),
            DataDir = Text(parse, DataDirOption, environment, "CONTROLLER_DATA_DIR") ?? defaults.DataDir,
            Token = Text(parse, TokenOption, environment, "CONTROLLER_TOKEN") ?? "",
            InstanceId = Text(parse, InstanceIdOption, environment, "CONTROLLER_INSTANCE_ID"),
            AdvertiseUrl = Text(parse, AdvertiseUrlOption, environment, "CONTROLLER_ADVERTISE_URL"),
            LeaseDuration = Seconds(parse.GetValue(LeaseSecondsOption) ?? Number(environment, "CONTROLLER_LEASE_SECONDS"), "--lease-seconds")
                ?? defaults.LeaseDuration,
            NodeTimeout = Seconds(parse.GetValue(NodeTimeoutSecondsOption) ?? Number(environment, "CONTROLLER_NODE_TIMEOUT_SECONDS"), "--node-timeout-seconds")
                ?? defaults.NodeTimeout,
        };
    }

    private static string? Text(ParseResult parse, Option<string?> option, Func<string, string?> environment, string variable)
    {
        var value = parse.GetValue(option);
        if (string.IsNullOrEmpty(value))
        {
            value = environment(variable);
        }

        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static double? Number(Func<string, string?> environment, string variable)
    {
        var value = environment(variable);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"{variable} must be a number, not '{value}'");
    }

    private static int? Port(double? value) => value switch
    {
        null => null,
        >= 0 and <= 65535 when value == Math.Floor(value.Value) => (int)value.Value,
        _ => throw new ArgumentException($"CONTROLLER_PORT must be a port number 0..65535, not {value.Value.ToString(CultureInfo.InvariantCulture)}"),
    };

    private static TimeSpan? Seconds(double? seconds, string name) => seconds switch
    {
        null => null,
        > 0 and < 86_400 => TimeSpan.FromSeconds(seconds.Value),
        _ => throw new ArgumentException($"{name} must be a positive number of seconds, not {seconds.Value.ToString(CultureInfo.InvariantCulture)}"),
    };
}
