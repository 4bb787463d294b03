using System.CommandLine;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Gwctl;

/// <summary>
/// <c>gwctl redrive &lt;queue&gt;</c>: moves the messages of a dead-letter queue (by default
/// <c>&lt;queue&gt;.dlq</c>, where graded redelivery parks a message past its limit) back to the queue. Each
/// message is republished through the default exchange with publisher confirms and acknowledged in the
/// dead-letter queue only once confirmed, so a message is never lost (an interrupted run may move one twice).
/// Its <c>x-delivery-count</c> is removed, so it starts the redelivery ladder afresh; <c>x-death</c> stays as
/// its history.
/// </summary>
internal static class RedriveCommand
{
    /// <summary>Exit codes scripts can rely on.</summary>
    public const int Moved = 0;
    public const int Failed = 1;
    public const int QueueMissing = 2;

    public static void AddTo(RootCommand root)
    {
        var queue = new Argument<string>("queue") { Description = "the queue to move messages back to" };
        var from = new Option<string?>("--from") { Description = "the dead-letter queue to read (default <queue>.dlq)" };
        var url = new Option<string>("--url")
        {
            Description = "AMQP URL of a gateway (GWCTL_AMQP_URL)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GWCTL_AMQP_URL") ?? "amqp://guest:guest@localhost:5672/",
        };
        var max = new Option<long?>("--max") { Description = "move at most this many messages (default: all there are when it starts)" };
        var command = new Command("redrive", "Move the messages of a dead-letter queue back to their queue.") { queue, from, url, max };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new Uri(parse.GetValue(url)!), parse.GetValue(queue)!, parse.GetValue(from), parse.GetValue(max), Console.Out, Console.Error, cancellationToken));
        root.Subcommands.Add(command);
    }

    public static async Task<int> RunAsync(
        Uri amqpUrl, string queue, string? from, long? max, TextWriter output, TextWriter errors, CancellationToken cancellationToken = default)
    {
        string source = from ?? queue + ".dlq";
        var factory = new ConnectionFactory { Uri = amqpUrl, ClientProvidedName = "gwctl redrive" };
        try
        {
            await using IConnection connection = await factory.CreateConnectionAsync(cancellationToken);
            await using IChannel channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
            uint waiting;
            try
            {
                await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                waiting = (await channel.QueueDeclarePassiveAsync(source, cancellationToken)).MessageCount;
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
            {
                await errors.WriteLineAsync($"gwctl: {ex.ShutdownReason.ReplyText}");
                return QueueMissing;
            }

            // Only what is there when it starts: a message that fails again and comes back meanwhile waits for the next run.
            long limit = Math.Min(waiting, max ?? long.MaxValue);
            long moved = 0;
            while (moved < limit && await channel.BasicGetAsync(source, autoAck: false, cancellationToken) is { } message)
            {
                var properties = new BasicProperties(message.BasicProperties);
                if (properties.Headers is { } headers)
                {
                    var kept = new Dictionary<string, object?>(headers);
                    kept.Remove("x-delivery-count");
                    properties.Headers = kept;
                }

                // Mandatory: if the queue went away meanwhile, the publish fails and the message stays where it was.
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, message.Body, cancellationToken);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
                moved++;
            }

            await output.WriteLineAsync($"moved {moved} message{(moved == 1 ? "" : "s")} from {source} to {queue}");
            return Moved;
        }
        catch (PublishException ex)
        {
            await errors.WriteLineAsync($"gwctl: a message could not be moved to {queue} ({(ex.IsReturn ? "no such queue" : "refused")}); it stays in {source}");
            return Failed;
        }
        catch (BrokerUnreachableException ex)
        {
            await errors.WriteLineAsync($"gwctl: cannot connect to {amqpUrl.Host}:{amqpUrl.Port}: {ex.InnerException?.Message ?? ex.Message}");
            return Failed;
        }
    }
}
