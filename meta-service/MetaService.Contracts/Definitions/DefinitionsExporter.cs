using System.Reflection;
using System.Text.Json.Nodes;

namespace MetaService.Contracts.Definitions;

/// <summary>
/// Exports a metadata store as RabbitMQ definitions that RabbitMQ's own <c>rabbitmqctl import_definitions</c>
/// (3.10 and later) and <see cref="DefinitionsImporter"/> accept: the inverse of the import, from one snapshot.
/// </summary>
/// <remarks>
/// Follows RabbitMQ 3.10's export: the default exchange, the amq.* exchanges and exclusive queues are left
/// out; user tags are written as the comma-separated string that every 3.x import reads; vhost
/// description and tags go in <c>metadata</c>; queues carry <c>type</c>. Unlike RabbitMQ's export,
/// internal exchanges are kept (with <c>"internal": true</c>), so their bindings still have both ends on
/// re-import. Bindings from the default exchange are implicit and never written. Topic permissions,
/// parameters and global parameters are written empty: the store has none. Entries are sorted by vhost
/// and name, so exporting the same store twice gives the same text.
/// </remarks>
public static class DefinitionsExporter
{
    /// <summary>The RabbitMQ version whose definitions format the export follows (written as rabbit_version).</summary>
    public const string FormatVersion = "3.10.8";

    /// <summary>Written as product_name, so a reader can tell the document did not come from RabbitMQ.</summary>
    public const string ProductName = "AMQP log gateway metadata service";

    public static async Task<RabbitMqDefinitions> ExportAsync(IMetadataStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return FromSnapshot(await store.GetSnapshotAsync(cancellationToken));
    }

    public static RabbitMqDefinitions FromSnapshot(MetadataSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var exclusiveQueues = snapshot.Queues
            .Where(q => q.ExclusiveOwner is not null)
            .Select(q => (q.VirtualHost, q.Name))
            .ToHashSet();

        return new RabbitMqDefinitions
        {
            RabbitVersion = FormatVersion,
            RabbitMqVersion = FormatVersion,
            ProductName = ProductName,
            ProductVersion = ProductVersion(),
            Users =
            [
                .. snapshot.Users.OrderBy(u => u.Name, StringComparer.Ordinal).Select(u => new DefinitionUser
                {
                    Name = u.Name,
                    PasswordHash = u.PasswordHash,
                    HashingAlgorithm = u.HashingAlgorithm,
                    Tags = [.. u.Tags],
                }),
            ],
            VirtualHosts =
            [
                .. snapshot.VirtualHosts.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => new DefinitionVirtualHost
                {
                    Name = v.Name,
                    Metadata = new DefinitionVirtualHostMetadata { Description = v.Description ?? "", Tags = [.. v.Tags ?? []] },
                }),
            ],
            Permissions =
            [
                .. snapshot.Permissions
                    .OrderBy(p => p.VirtualHost, StringComparer.Ordinal)
                    .ThenBy(p => p.User, StringComparer.Ordinal)
                    .Select(p => new DefinitionPermission
                    {
                        User = p.User,
                        VirtualHost = p.VirtualHost,
                        Configure = p.Configure,
                        Write = p.Write,
                        Read = p.Read,
                    }),
            ],
            Policies =
            [
                .. snapshot.Policies
                    .OrderBy(p => p.VirtualHost, StringComparer.Ordinal)
                    .ThenBy(p => p.Name, StringComparer.Ordinal)
                    .Select(p => new DefinitionPolicy
                    {
                        VirtualHost = p.VirtualHost,
                        Name = p.Name,
                        Pattern = p.Pattern,
                        ApplyTo = p.ApplyTo,
                        Priority = p.Priority,
                        Definition = Clone(p.Definition),
                    }),
            ],
            Queues =
            [
                .. snapshot.Queues
                    .Where(q => q.ExclusiveOwner is null)
                    .OrderBy(q => q.VirtualHost, StringComparer.Ordinal)
                    .ThenBy(q => q.Name, StringComparer.Ordinal)
                    .Select(q => new DefinitionQueue
                    {
                        Name = q.Name,
                        VirtualHost = q.VirtualHost,
                        Durable = q.Durable,
                        AutoDelete = q.AutoDelete,
                        Arguments = Clone(q.Arguments),
                        Type = QueueType(q.Arguments),
                    }),
            ],
            Exchanges =
            [
                .. snapshot.Exchanges
                    .Where(e => !DefinitionsImporter.IsBuiltInExchange(e.Name))
                    .OrderBy(e => e.VirtualHost, StringComparer.Ordinal)
                    .ThenBy(e => e.Name, StringComparer.Ordinal)
                    .Select(e => new DefinitionExchange
                    {
                        Name = e.Name,
                        VirtualHost = e.VirtualHost,
                        Type = e.Type,
                        Durable = e.Durable,
                        AutoDelete = e.AutoDelete,
                        Internal = e.Internal,
                        Arguments = Clone(e.Arguments),
                    }),
            ],
            Bindings =
            [
                .. snapshot.Bindings
                    .Where(b => b.Source.Length > 0)
                    .Where(b => b.DestinationType != BindingDestinationType.Queue
                        || !exclusiveQueues.Contains((b.VirtualHost, b.Destination)))
                    .OrderBy(b => b.VirtualHost, StringComparer.Ordinal)
                    .ThenBy(b => b.Source, StringComparer.Ordinal)
                    .ThenBy(b => b.DestinationType)
                    .ThenBy(b => b.Destination, StringComparer.Ordinal)
                    .ThenBy(b => b.RoutingKey, StringComparer.Ordinal)
                    .ThenBy(b => b.Arguments.ToJsonString(), StringComparer.Ordinal)
                    .Select(b => new DefinitionBinding
                    {
                        Source = b.Source,
                        VirtualHost = b.VirtualHost,
                        Destination = b.Destination,
                        DestinationType = b.DestinationType == BindingDestinationType.Queue ? "queue" : "exchange",
                        RoutingKey = b.RoutingKey,
                        Arguments = Clone(b.Arguments),
                    }),
            ],
        };
    }

    private static JsonObject Clone(JsonObject? value) => value is null ? [] : (JsonObject)value.DeepClone();

    /// <summary>The queue type as RabbitMQ 3.10 writes it beside the arguments: x-queue-type, else classic.</summary>
    private static string QueueType(JsonObject? arguments) =>
        arguments?["x-queue-type"] is JsonValue value && value.TryGetValue(out string? type) && type.Length > 0
            ? type
            : "classic";

    private static string ProductVersion()
    {
        var assembly = typeof(DefinitionsExporter).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
    }
}
