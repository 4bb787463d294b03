using Controller.Contracts;
using Controller.Service.Hosting;

namespace Controller.Service.Cluster;

/// <summary>
/// Checks a gateway's report before anything is stored or counted. The JSON reader fills what the body leaves out
/// with nulls whatever the contract's nullability says, so a missing name or a <c>null</c> list entry would
/// otherwise get as far as the share rule and fail there (after the row was written, and again at every load).
/// Missing or bad names are refused (400, <see cref="BadRequestException"/>); numbers are clamped to a sane range,
/// so no report can make a view's sum over nodes overflow or a share infinite.
/// </summary>
internal static class ReportChecks
{
    /// <summary>The longest node id, as for every other name (AMQP's shortstr).</summary>
    public const int MaxNodeIdLength = 255;

    /// <summary>Above any real gateway's rate; 1e9 × any number of nodes still sums to a finite double.</summary>
    public const double MaxRate = 1e9;

    /// <summary>Connections, channels, consumers, prefetch per node: a view sums them over nodes in 64 bits, so this keeps any sum far from overflow.</summary>
    public const int MaxCount = 1_000_000_000;

    /// <summary>Messages in one queue on one node (ready or unacked): a long sum of these over millions of nodes still fits.</summary>
    public const long MaxMessages = 1_000_000_000_000_000;

    /// <summary>The report with missing lists made empty and numbers clamped; throws <see cref="BadRequestException"/> naming the first bad field.</summary>
    public static GatewayReport Validate(GatewayReport report)
    {
        if (report is null)
        {
            throw new BadRequestException("the body must be a GatewayReport");
        }

        if (string.IsNullOrWhiteSpace(report.NodeId))
        {
            throw new BadRequestException("nodeId is required and must not be empty");
        }

        if (report.NodeId.Length > MaxNodeIdLength)
        {
            throw new BadRequestException($"nodeId is longer than {MaxNodeIdLength} characters");
        }

        return report with
        {
            AmqpEndpoint = report.AmqpEndpoint ?? "",
            Connections = Count(report.Connections),
            Channels = Count(report.Channels),
            Queues = Entries(report.Queues, "queues", (q, at) => q with
            {
                VHost = Name(q.VHost, at + ".vHost"),
                Queue = Name(q.Queue, at + ".queue"),
                Ready = Messages(q.Ready),
                Unacked = Messages(q.Unacked),
                Consumers = Count(q.Consumers),
                PublishRate = Rate(q.PublishRate),
                DeliverRate = Rate(q.DeliverRate),
                AckRate = Rate(q.AckRate),
                RedeliverRate = Rate(q.RedeliverRate),
                ConsumeLimitPerSecond = q.ConsumeLimitPerSecond is { } limit && double.IsFinite(limit) ? Rate(limit) : null,
            }),
            Consumers = Entries(report.Consumers, "consumers", (c, at) => c with
            {
                VHost = Name(c.VHost, at + ".vHost"),
                Queue = Name(c.Queue, at + ".queue"),
                ConsumerTag = Name(c.ConsumerTag, at + ".consumerTag"),
                // "" is what a gateway reports for a client whose address it does not know; only a missing one is refused.
                ClientAddress = c.ClientAddress ?? throw new BadRequestException($"{at}.clientAddress is required"),
                Channel = Count(c.Channel),
                Prefetch = Count(c.Prefetch),
                Unacked = Count(c.Unacked),
                DeliverRate = Rate(c.DeliverRate),
            }),
            Publishing = Entries(report.Publishing, "publishing", (p, at) => p with
            {
                VHost = Name(p.VHost, at + ".vHost"),
                // "" is the default exchange: only a missing exchange is refused.
                Exchange = p.Exchange ?? throw new BadRequestException($"{at}.exchange is required (\"\" is the default exchange)"),
                PublishRate = Rate(p.PublishRate),
            }),
        };
    }

    /// <summary>A rate as a number the share rule and the views can add up: NaN or below 0 is 0, above the cap (or +∞) is the cap.</summary>
    public static double Rate(double perSecond) => double.IsNaN(perSecond) ? 0 : Math.Clamp(perSecond, 0, MaxRate);

    private static int Count(int value) => Math.Clamp(value, 0, MaxCount);

    private static long Messages(long value) => Math.Clamp(value, 0, MaxMessages);

    private static string Name(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw new BadRequestException($"{field} is required and must not be empty") : value;

    private static IReadOnlyList<T> Entries<T>(IReadOnlyList<T>? entries, string field, Func<T, string, T> check)
        where T : class
    {
        if (entries is null)
        {
            // A reporter that omits an empty list: nothing to count.
            return [];
        }

        var checkedEntries = new T[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            string at = $"{field}[{i}]";
            checkedEntries[i] = check(entries[i] ?? throw new BadRequestException($"{at} is null"), at);
        }

        return checkedEntries;
    }
}
