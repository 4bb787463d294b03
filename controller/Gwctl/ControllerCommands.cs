using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Controller.Contracts;
using Spectre.Console;

namespace Gwctl;

/// <summary>
/// The controller's commands: status, nodes, queues, consumers (tables, or the contract records with
/// <c>--json</c>), pause/resume, throttle/unthrottle (consume limits), throttle-publish/unthrottle-publish.
/// Each one calls the controller's HTTP API through <see cref="ControllerClient"/>, which finds the leader
/// among the given URLs, and exits with one of <see cref="ExitCodes"/>.
/// </summary>
internal sealed class ControllerCommands
{
    public const string DefaultController = "http://127.0.0.1:15690";

    private static readonly ControllerJsonContext Json = ControllerJsonContext.Default;

    // Created per command tree: an option belongs to the commands it was added to.
    private readonly Option<string> _controllerUrls = new("--controller")
    {
        Description = "controller URLs, comma-separated (GWCTL_CONTROLLER)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GWCTL_CONTROLLER") is { Length: > 0 } urls ? urls : DefaultController,
    };

    private readonly Option<string?> _token = new("--token")
    {
        Description = "the controller's API token (GWCTL_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GWCTL_TOKEN"),
    };

    public static void AddTo(RootCommand root) => new ControllerCommands().AddCommands(root);

    private void AddCommands(RootCommand root)
    {
        root.Subcommands.Add(StatusCommand());
        root.Subcommands.Add(NodesCommand());
        root.Subcommands.Add(QueuesCommand());
        root.Subcommands.Add(ConsumersCommand());
        root.Subcommands.Add(PauseCommand("pause", "Stop deliveries from a queue (to all its consumers, or to those of some clients)."));
        root.Subcommands.Add(PauseCommand("resume", "Remove pauses of a queue (all of them, or those of the scope given)."));
        root.Subcommands.Add(ThrottleCommand());
        root.Subcommands.Add(UnthrottleCommand());
        root.Subcommands.Add(ThrottlePublishCommand());
        root.Subcommands.Add(UnthrottlePublishCommand());
    }

    private Command NewCommand(string name, string description, params Symbol[] symbols)
    {
        var command = new Command(name, description) { _controllerUrls, _token };
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        return command;
    }

    private static Option<bool> JsonOption() => new("--json") { Description = "print the controller's records as JSON instead of a table" };

    private static Option<string?> VHostFilter() => new("--vhost") { Description = "only this virtual host" };

    private static Option<string> VHostOption() => new("--vhost") { Description = "the virtual host", DefaultValueFactory = _ => "/" };

    private static Argument<string> QueueArgument() => new("queue") { Description = "the queue" };

    private static Option<double> RateOption() => new("--rate")
    {
        Description = "messages per second, across all gateways",
        Required = true,
        // A parser rather than a validator: a validator would run on a value that did not convert, and throw.
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && rate > 0 && double.IsFinite(rate))
            {
                return rate;
            }

            result.AddError($"--rate must be a positive number of messages per second, not '{text}'");
            return 0;
        },
    };

    private Command StatusCommand()
    {
        var json = JsonOption();
        var command = NewCommand("status", "The controller's state: leader, epoch, lease, nodes and the rules in force.", json);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var status = await client.GetStatusAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                return output.Json(status, Json.ControllerStatus);
            }

            var now = DateTimeOffset.UtcNow;
            // Plain "key  value" lines rather than a grid, which would pad every line with trailing blanks.
            string leader = status.LeaderId is null ? "none" : status.LeaderId + (status.LeaderUrl is null ? "" : " at " + status.LeaderUrl);
            string lease = status.LeaseExpiresAt is { } expiry ? $"{GwctlConsole.Time(expiry)} ({GwctlConsole.Relative(expiry, now)})" : "-";
            string rules = $"{Plural(status.Pauses.Count, "pause")}, {Plural(status.ConsumeLimits.Count, "consume limit")}, {Plural(status.PublishLimits.Count, "publish limit")}";
            foreach (var (key, value) in new[]
            {
                ("Controller", $"{status.ControllerId} ({(status.IsLeader ? "leader" : "standby")})"),
                ("Leader", leader),
                ("Epoch", GwctlConsole.Count(status.Epoch)),
                ("Lease expires", lease),
                ("Nodes", $"{status.LiveNodes} live, {status.LostNodes} lost"),
                ("Rules", rules),
            })
            {
                await output.Out.WriteLineAsync($"{key,-14} {value}");
            }

            if (status.Pauses.Count > 0)
            {
                output.Console.WriteLine();
                output.Console.Write(PausesTable(output.Border, status.Pauses));
            }

            if (status.ConsumeLimits.Count > 0)
            {
                var limits = GwctlConsole.NewTable(output.Border, "VHost", "Queue", "Consume limit msg/s");
                foreach (var limit in status.ConsumeLimits.OrderBy(l => l.VHost, StringComparer.Ordinal).ThenBy(l => l.Queue, StringComparer.Ordinal))
                {
                    limits.AddTextRow(limit.VHost, limit.Queue, GwctlConsole.Rate(limit.MessagesPerSecond));
                }

                output.Console.WriteLine();
                output.Console.Write(limits);
            }

            if (status.PublishLimits.Count > 0)
            {
                var limits = GwctlConsole.NewTable(output.Border, "VHost", "Exchange", "Publish limit msg/s");
                foreach (var limit in status.PublishLimits.OrderBy(l => l.VHost, StringComparer.Ordinal).ThenBy(l => l.Exchange, StringComparer.Ordinal))
                {
                    limits.AddTextRow(limit.VHost, ExchangeName(limit.Exchange), GwctlConsole.Rate(limit.MessagesPerSecond));
                }

                output.Console.WriteLine();
                output.Console.Write(limits);
            }

            return ExitCodes.Done;
        }));
        return command;
    }

    private static Table PausesTable(TableBorder border, IEnumerable<PauseRule> pauses)
    {
        var table = GwctlConsole.NewTable(border, "VHost", "Queue", "Client address", "Connection name", "Since", "Rule");
        foreach (var pause in pauses.OrderBy(p => p.VHost, StringComparer.Ordinal).ThenBy(p => p.Queue, StringComparer.Ordinal))
        {
            table.AddTextRow(pause.VHost, pause.Queue, pause.ClientAddress ?? "(any)", pause.ConnectionName ?? "(any)", GwctlConsole.Time(pause.CreatedAt), pause.Id);
        }

        return table;
    }

    private Command NodesCommand()
    {
        var json = JsonOption();
        var command = NewCommand("nodes", "The registered gateways, live and lost, with their rates.", json);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var nodes = (await client.GetNodesAsync(cancellationToken)).OrderBy(n => n.NodeId, StringComparer.Ordinal).ToArray();
            if (parse.GetValue(json))
            {
                return output.Json(nodes, Json.NodeViewArray);
            }

            var now = DateTimeOffset.UtcNow;
            var table = GwctlConsole.NewTable(
                output.Border, "Node", "AMQP endpoint", "State", "In sync", "Last seen", "Connections", "Channels", "Queues", "Consumers", "Publish/s", "Deliver/s");
            foreach (var node in nodes)
            {
                table.AddTextRow(
                    node.NodeId,
                    node.AmqpEndpoint,
                    node.Live ? "live" : "lost",
                    GwctlConsole.YesNo(node.InSync),
                    GwctlConsole.Relative(node.LastSeen, now),
                    GwctlConsole.Count(node.Connections),
                    GwctlConsole.Count(node.Channels),
                    GwctlConsole.Count(node.Queues),
                    GwctlConsole.Count(node.Consumers),
                    GwctlConsole.Rate(node.PublishRate),
                    GwctlConsole.Rate(node.DeliverRate));
            }

            output.Console.Write(table);
            return ExitCodes.Done;
        }));
        return command;
    }

    private Command QueuesCommand()
    {
        var json = JsonOption();
        var vhost = VHostFilter();
        var command = NewCommand("queues", "Queues summed over the gateways that serve them: depth, rates, pauses and limits.", json, vhost);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            string? onlyVHost = parse.GetValue(vhost);
            var queues = (await client.GetQueuesAsync(cancellationToken))
                .Where(q => onlyVHost is null || q.VHost == onlyVHost)
                .OrderBy(q => q.VHost, StringComparer.Ordinal).ThenBy(q => q.Queue, StringComparer.Ordinal)
                .ToArray();
            if (parse.GetValue(json))
            {
                return output.Json(queues, Json.QueueViewArray);
            }

            var table = GwctlConsole.NewTable(
                output.Border, "VHost", "Queue", "Ready", "Unacked", "Consumers", "Publish/s", "Deliver/s", "Ack/s", "Redeliver/s", "Paused", "Throttled", "Nodes");
            foreach (var queue in queues)
            {
                string paused = queue.Paused ? "yes"
                    : queue.PausedConsumers > 0 ? $"{queue.PausedConsumers} of {queue.Consumers} consumers"
                    : "no";
                table.AddTextRow(
                    queue.VHost,
                    queue.Queue,
                    GwctlConsole.Count(queue.Ready),
                    GwctlConsole.Count(queue.Unacked),
                    GwctlConsole.Count(queue.Consumers),
                    GwctlConsole.Rate(queue.PublishRate),
                    GwctlConsole.Rate(queue.DeliverRate),
                    GwctlConsole.Rate(queue.AckRate),
                    GwctlConsole.Rate(queue.RedeliverRate),
                    paused,
                    queue.ConsumeLimitPerSecond is { } limit ? GwctlConsole.Rate(limit) + " msg/s" : "no",
                    string.Join(",", queue.Nodes));
            }

            output.Console.Write(table);
            return ExitCodes.Done;
        }));
        return command;
    }

    private Command ConsumersCommand()
    {
        var json = JsonOption();
        var vhost = VHostFilter();
        var queueFilter = new Option<string?>("--queue") { Description = "only consumers of this queue" };
        var command = NewCommand("consumers", "Consumers on every live gateway, with their delivery rates and pauses.", json, vhost, queueFilter);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            string? onlyVHost = parse.GetValue(vhost);
            string? onlyQueue = parse.GetValue(queueFilter);
            var consumers = (await client.GetConsumersAsync(cancellationToken))
                .Where(c => (onlyVHost is null || c.VHost == onlyVHost) && (onlyQueue is null || c.Queue == onlyQueue))
                .OrderBy(c => c.VHost, StringComparer.Ordinal).ThenBy(c => c.Queue, StringComparer.Ordinal)
                .ThenBy(c => c.NodeId, StringComparer.Ordinal).ThenBy(c => c.ConsumerTag, StringComparer.Ordinal)
                .ToArray();
            if (parse.GetValue(json))
            {
                return output.Json(consumers, Json.ConsumerViewArray);
            }

            var table = GwctlConsole.NewTable(
                output.Border, "Node", "VHost", "Queue", "Consumer tag", "Client", "Connection name", "Channel", "Prefetch", "Unacked", "Deliver/s", "Paused");
            foreach (var consumer in consumers)
            {
                table.AddTextRow(
                    consumer.NodeId,
                    consumer.VHost,
                    consumer.Queue,
                    consumer.ConsumerTag,
                    consumer.ClientAddress,
                    consumer.ConnectionName ?? "",
                    GwctlConsole.Count(consumer.Channel),
                    GwctlConsole.Count(consumer.Prefetch),
                    GwctlConsole.Count(consumer.Unacked),
                    GwctlConsole.Rate(consumer.DeliverRate),
                    GwctlConsole.YesNo(consumer.Paused));
            }

            output.Console.Write(table);
            return ExitCodes.Done;
        }));
        return command;
    }

    /// <summary>pause and resume share their arguments: the queue and the optional client scope.</summary>
    private Command PauseCommand(string name, string description)
    {
        var queue = QueueArgument();
        var vhost = VHostOption();
        var clientAddress = new Option<string?>("--client-address") { Description = "only clients from this IP address or CIDR block (10.1.0.0/16)" };
        clientAddress.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value is not null && !IPAddress.TryParse(value, out _) && !IPNetwork.TryParse(value, out _))
            {
                result.AddError($"--client-address: '{value}' is neither an IP address nor a CIDR block");
            }
        });
        var connectionName = new Option<string?>("--connection-name") { Description = "only connections with this connection_name" };
        var command = NewCommand(name, description, queue, vhost, clientAddress, connectionName);
        bool pausing = name == "pause";
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            string queueName = parse.GetValue(queue)!;
            string vhostName = parse.GetValue(vhost)!;
            string? address = parse.GetValue(clientAddress);
            string? connection = parse.GetValue(connectionName);
            string scope = (address, connection) switch
            {
                (null, null) => "all consumers",
                (_, null) => $"clients from {address}",
                (null, _) => $"connections named '{connection}'",
                _ => $"connections named '{connection}' from {address}",
            };
            if (pausing)
            {
                var rule = await client.PauseAsync(new PauseRequest(vhostName, queueName, address, connection), cancellationToken);
                await output.Out.WriteLineAsync($"paused queue '{queueName}' in vhost '{vhostName}' for {scope} (rule {rule.Id})");
            }
            else
            {
                int removed = await client.ResumeAsync(vhostName, queueName, address, connection, cancellationToken);
                await output.Out.WriteLineAsync($"resumed queue '{queueName}' in vhost '{vhostName}' ({Plural(removed, "pause rule")} removed)");
            }

            return ExitCodes.Done;
        }));
        return command;
    }

    private Command ThrottleCommand()
    {
        var queue = QueueArgument();
        var vhost = VHostOption();
        var rate = RateOption();
        var command = NewCommand("throttle", "Limit how fast a queue's messages are delivered, across all gateways.", queue, vhost, rate);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var limit = await client.SetConsumeLimitAsync(new ConsumeLimit(parse.GetValue(vhost)!, parse.GetValue(queue)!, parse.GetValue(rate)), cancellationToken);
            await output.Out.WriteLineAsync($"throttled queue '{limit.Queue}' in vhost '{limit.VHost}' to {GwctlConsole.Rate(limit.MessagesPerSecond)} msg/s");
            return ExitCodes.Done;
        }));
        return command;
    }

    private Command UnthrottleCommand()
    {
        var queue = QueueArgument();
        var vhost = VHostOption();
        var command = NewCommand("unthrottle", "Remove a queue's consume limit.", queue, vhost);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            await client.RemoveConsumeLimitAsync(parse.GetValue(vhost)!, parse.GetValue(queue)!, cancellationToken);
            await output.Out.WriteLineAsync($"removed the consume limit of queue '{parse.GetValue(queue)}' in vhost '{parse.GetValue(vhost)}'");
            return ExitCodes.Done;
        }));
        return command;
    }

    private static Option<string> RequiredVHost() => new("--vhost") { Description = "the virtual host", Required = true };

    private static Option<string?> ExchangeOption() =>
        new("--exchange") { Description = "only this exchange (\"\" is the default exchange); without it the whole vhost" };

    private Command ThrottlePublishCommand()
    {
        var vhost = RequiredVHost();
        var exchange = ExchangeOption();
        var rate = RateOption();
        var command = NewCommand("throttle-publish", "Limit how fast publishers may publish into a vhost or one of its exchanges, across all gateways.", vhost, exchange, rate);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var limit = await client.SetPublishLimitAsync(new PublishLimit(parse.GetValue(vhost)!, parse.GetValue(exchange), parse.GetValue(rate)), cancellationToken);
            await output.Out.WriteLineAsync($"throttled publishing into {PublishTarget(limit.VHost, limit.Exchange)} to {GwctlConsole.Rate(limit.MessagesPerSecond)} msg/s");
            return ExitCodes.Done;
        }));
        return command;
    }

    private Command UnthrottlePublishCommand()
    {
        var vhost = RequiredVHost();
        var exchange = ExchangeOption();
        var command = NewCommand("unthrottle-publish", "Remove a publish limit of a vhost or one of its exchanges.", vhost, exchange);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            await client.RemovePublishLimitAsync(parse.GetValue(vhost)!, parse.GetValue(exchange), cancellationToken);
            await output.Out.WriteLineAsync($"removed the publish limit of {PublishTarget(parse.GetValue(vhost)!, parse.GetValue(exchange))}");
            return ExitCodes.Done;
        }));
        return command;
    }

    private static string PublishTarget(string vhost, string? exchange) =>
        exchange is null ? $"vhost '{vhost}'" : $"exchange {ExchangeName(exchange)} of vhost '{vhost}'";

    private static string ExchangeName(string? exchange) => exchange switch
    {
        null => "(all)",
        "" => "(default)",
        _ => $"'{exchange}'",
    };

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    /// <summary>What a command writes to: the plain writers and, for tables, a console set up for them.</summary>
    private sealed record Output(TextWriter Out, TextWriter Error, IAnsiConsole Console, TableBorder Border)
    {
        public int Json<T>(T value, JsonTypeInfo<T> type)
        {
            Out.WriteLine(JsonSerializer.Serialize(value, type));
            return ExitCodes.Done;
        }
    }

    /// <summary>
    /// Runs one command against the controller and turns every way it can fail into one line on stderr and
    /// the exit code for it: nothing here lets an exception reach the user as a stack trace.
    /// </summary>
    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<ControllerClient, Output, Task<int>> command)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        IReadOnlyList<Uri> urls;
        try
        {
            urls = ControllerClient.ParseUrls(parse.GetValue(_controllerUrls)!);
        }
        catch (FormatException e)
        {
            return await FailAsync(error, ExitCodes.Usage, $"--controller: {e.Message}");
        }

        if (urls.Count == 0)
        {
            return await FailAsync(error, ExitCodes.Usage, "--controller: no controller URL given");
        }

        if (string.IsNullOrEmpty(parse.GetValue(_token)))
        {
            return await FailAsync(error, ExitCodes.Usage, "no token: pass --token or set GWCTL_TOKEN");
        }

        var (console, border) = GwctlConsole.Create(output);
        using var client = new ControllerClient(urls, parse.GetValue(_token)!);
        try
        {
            return await command(client, new Output(output, error, console, border));
        }
        catch (ControllerException e)
        {
            return await FailAsync(error, ExitCode(e.Status), e.Unavailable ? e.Message : $"{e.Message} ({(int)e.Status!.Value} from {client.Current})");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException or NotSupportedException)
        {
            return await FailAsync(error, ExitCodes.Unavailable, $"unexpected answer from {client.Current}: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return await FailAsync(error, ExitCodes.Unavailable, $"{client.Current} did not answer in time");
        }
    }

    private static int ExitCode(HttpStatusCode? status) => status switch
    {
        null => ExitCodes.Unavailable,
        HttpStatusCode.BadRequest => ExitCodes.Usage,
        HttpStatusCode.NotFound => ExitCodes.NothingToDo,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.Unauthorized,
        _ => ExitCodes.Unavailable,
    };

    private static async Task<int> FailAsync(TextWriter error, int exitCode, string message)
    {
        await error.WriteLineAsync("gwctl: " + message);
        return exitCode;
    }
}
