using System.Globalization;
using System.Text.Json.Nodes;

namespace MetaService.Contracts.Definitions;

/// <summary>
/// Imports RabbitMQ definitions into a metadata store, the way <c>rabbitmqctl import_definitions</c> applies
/// them to a RabbitMQ node: vhosts, users (with their original password hashes, so passwords keep
/// working), permissions, exchanges, queues, bindings, policies, in that order.
/// </summary>
/// <remarks>
/// <para><b>Idempotent.</b> Each entry is compared with the store's snapshot first and written only when the
/// store lacks it or holds other values, so importing the same document twice writes nothing the second
/// time (no change-feed entries). Exchanges and queues go through declare, so one that exists with other
/// properties fails the import with the store's 406 (as a redeclare would), prefixed with what was being imported.</para>
/// <para><b>Skipped, with a warning each</b>, as RabbitMQ's own import skips them: entries whose vhost, user,
/// exchange or queue does not exist (the store's 404) — notably bindings to or from internal exchanges,
/// which RabbitMQ 3.10 leaves out of its export but whose bindings it keeps. Skipped silently: the
/// built-in exchanges ("" and amq.*, which every vhost has) and bindings from the default exchange
/// (implicit). Not imported, reported in the result: topic permissions, runtime and global parameters
/// (vhost limits, operator policies, shovels, federation, cluster name), user limits and a vhost's
/// default queue type — the metadata store has no place for them.</para>
/// <para>Transient (non-durable) queues are imported like durable ones, as RabbitMQ imports them;
/// RabbitMQ never exports exclusive queues. The whole document is checked before anything is written
/// (unsupported hashing algorithm, unknown destination type, empty names): a malformed document
/// changes nothing and fails with 406 listing every problem.</para>
/// </remarks>
public static class DefinitionsImporter
{
    public static async Task<DefinitionsImportResult> ImportAsync(
        IMetadataStore store,
        RabbitMqDefinitions definitions,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(definitions);
        Validate(definitions);

        var run = new ImportRun(store, await store.GetSnapshotAsync(cancellationToken), cancellationToken);
        var vhosts = await run.VirtualHostsAsync(definitions);
        var users = await run.UsersAsync(definitions.Users);
        var permissions = await run.PermissionsAsync(definitions.Permissions);
        var exchanges = await run.ExchangesAsync(definitions.Exchanges);
        var queues = await run.QueuesAsync(definitions.Queues);
        var bindings = await run.BindingsAsync(definitions.Bindings);
        var policies = await run.PoliciesAsync(definitions.Policies);
        run.ReportUnsupported(definitions);

        return new DefinitionsImportResult(
            vhosts, users, permissions, exchanges, queues, bindings, policies,
            definitions.TopicPermissions.Count, definitions.Parameters.Count, definitions.GlobalParameters.Count,
            run.Warnings);
    }

    /// <summary>Throws a 406 <see cref="MetadataException"/> listing every entry the import could not apply.</summary>
    public static void Validate(RabbitMqDefinitions definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var problems = new List<string>();
        foreach (var vhost in definitions.VirtualHosts.Where(v => string.IsNullOrEmpty(v.Name)))
        {
            problems.Add("a vhost without a name");
        }

        foreach (var user in definitions.Users)
        {
            if (string.IsNullOrEmpty(user.Name))
            {
                problems.Add("a user without a name");
            }
            else if (!RabbitPasswordHashing.IsSupported(user.EffectiveHashingAlgorithm()))
            {
                problems.Add($"user '{user.Name}': unsupported hashing_algorithm '{user.HashingAlgorithm}'");
            }
        }

        foreach (var queue in definitions.Queues.Where(q => string.IsNullOrEmpty(q.Name)))
        {
            problems.Add($"a queue without a name in vhost '{queue.VirtualHost}'");
        }

        foreach (var binding in definitions.Bindings.Where(b => ParseDestinationType(b.DestinationType) is null))
        {
            problems.Add($"binding of '{binding.Destination}' to '{binding.Source}' in vhost '{binding.VirtualHost}': "
                + $"destination_type '{binding.DestinationType}' is neither 'queue' nor 'exchange'");
        }

        foreach (var policy in definitions.Policies.Where(p => string.IsNullOrEmpty(p.Name)))
        {
            problems.Add($"a policy without a name in vhost '{policy.VirtualHost}'");
        }

        if (problems.Count > 0)
        {
            throw new MetadataException(
                MetadataException.PreconditionFailed,
                "definitions rejected, nothing imported: " + string.Join("; ", problems));
        }
    }

    /// <summary>True for the exchanges every vhost has and RabbitMQ never exports or imports: "" and amq.*.</summary>
    public static bool IsBuiltInExchange(string name) =>
        name.Length == 0 || name.StartsWith("amq.", StringComparison.Ordinal);

    internal static BindingDestinationType? ParseDestinationType(string? value) => value switch
    {
        "queue" => BindingDestinationType.Queue,
        "exchange" => BindingDestinationType.Exchange,
        _ => null,
    };

    internal static bool SameTags(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        (a ?? []).Order(StringComparer.Ordinal).SequenceEqual((b ?? []).Order(StringComparer.Ordinal), StringComparer.Ordinal);

    internal static bool SameJson(JsonNode? a, JsonNode? b) =>
        JsonNode.DeepEquals(a ?? new JsonObject(), b ?? new JsonObject());

    /// <summary>The queue's arguments, with x-queue-type added from the 3.10+ "type" field when only that names a non-classic type.</summary>
    internal static JsonObject QueueArguments(DefinitionQueue queue)
    {
        var arguments = (JsonObject)queue.Arguments.DeepClone();
        if (queue.Type is { Length: > 0 } type && type != "classic" && !arguments.ContainsKey("x-queue-type"))
        {
            arguments["x-queue-type"] = type;
        }

        return arguments;
    }

    private sealed class ImportRun(IMetadataStore store, MetadataSnapshot snapshot, CancellationToken cancellationToken)
    {
        private readonly List<string> _warnings = [];

        public IReadOnlyList<string> Warnings => _warnings;

        public async Task<ImportCounts> VirtualHostsAsync(RabbitMqDefinitions definitions)
        {
            var existing = snapshot.VirtualHosts.ToDictionary(v => v.Name, StringComparer.Ordinal);
            var limitParameters = definitions.Parameters
                .Where(p => p.Component == "vhost-limits")
                .Select(p => p.VirtualHost)
                .ToHashSet(StringComparer.Ordinal);
            var counts = new Counter();
            foreach (var vhost in definitions.VirtualHosts)
            {
                existing.TryGetValue(vhost.Name, out var current);
                // A document without description/tags (older versions) keeps what the store has.
                var description = vhost.EffectiveDescription() ?? current?.Description;
                var tags = vhost.EffectiveTags() ?? current?.Tags;
                if (current is null)
                {
                    await store.PutVirtualHostAsync(new VirtualHostRecord(vhost.Name, description, tags), cancellationToken);
                    counts.Created++;
                }
                else if ((current.Description ?? "") != (description ?? "") || !SameTags(current.Tags, tags))
                {
                    await store.PutVirtualHostAsync(new VirtualHostRecord(vhost.Name, description, tags), cancellationToken);
                    counts.Updated++;
                }
                else
                {
                    counts.Unchanged++;
                }

                if (vhost.HasLimits() && !limitParameters.Contains(vhost.Name))
                {
                    _warnings.Add($"vhost '{vhost.Name}': limits {vhost.Limits!.ToJsonString()} not imported: the metadata store has no vhost limits");
                }

                var queueType = vhost.DefaultQueueType ?? vhost.Metadata?.DefaultQueueType;
                if (queueType is { Length: > 0 } and not "classic" and not "undefined")
                {
                    _warnings.Add($"vhost '{vhost.Name}': default queue type '{queueType}' not imported: "
                        + "queues declared without x-queue-type are classic");
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> UsersAsync(IEnumerable<DefinitionUser> users)
        {
            var existing = snapshot.Users.ToDictionary(u => u.Name, StringComparer.Ordinal);
            var counts = new Counter();
            foreach (var user in users)
            {
                var record = new UserRecord(user.Name, user.PasswordHash, user.EffectiveHashingAlgorithm(), [.. user.Tags]);
                if (!existing.TryGetValue(user.Name, out var current))
                {
                    await store.PutUserAsync(record, cancellationToken);
                    counts.Created++;
                }
                else if (current.PasswordHash != record.PasswordHash
                    || current.HashingAlgorithm != record.HashingAlgorithm
                    || !SameTags(current.Tags, record.Tags))
                {
                    await store.PutUserAsync(record, cancellationToken);
                    counts.Updated++;
                }
                else
                {
                    counts.Unchanged++;
                }

                if (user.Limits is { Count: > 0 } limits)
                {
                    _warnings.Add($"user '{user.Name}': limits {limits.ToJsonString()} not imported: the metadata store has no user limits");
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> PermissionsAsync(IEnumerable<DefinitionPermission> permissions)
        {
            var existing = snapshot.Permissions.ToDictionary(p => (p.User, p.VirtualHost));
            var counts = new Counter();
            foreach (var permission in permissions)
            {
                var record = new PermissionRecord(
                    permission.User, permission.VirtualHost, permission.Configure, permission.Write, permission.Read);
                existing.TryGetValue((record.User, record.VirtualHost), out var current);
                if (current == record)
                {
                    counts.Unchanged++;
                }
                else if (await TryAsync(
                    () => store.SetPermissionAsync(record, cancellationToken),
                    $"permissions of user '{record.User}' in vhost '{record.VirtualHost}'"))
                {
                    counts.Add(current is null);
                }
                else
                {
                    counts.Skipped++;
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> ExchangesAsync(IEnumerable<DefinitionExchange> exchanges)
        {
            var existing = snapshot.Exchanges.ToDictionary(e => (e.VirtualHost, e.Name));
            var counts = new Counter();
            foreach (var exchange in exchanges)
            {
                if (IsBuiltInExchange(exchange.Name))
                {
                    counts.Skipped++;
                    continue;
                }

                var record = new ExchangeRecord(
                    exchange.VirtualHost, exchange.Name, exchange.Type, exchange.Durable, exchange.AutoDelete,
                    exchange.Internal, (JsonObject)exchange.Arguments.DeepClone());
                var found = existing.TryGetValue((record.VirtualHost, record.Name), out var current);
                if (found && current!.Type == record.Type && current.Durable == record.Durable
                    && current.AutoDelete == record.AutoDelete && current.Internal == record.Internal
                    && SameJson(current.Arguments, record.Arguments))
                {
                    counts.Unchanged++;
                }
                else if (await TryAsync(
                    () => store.DeclareExchangeAsync(record, passive: false, cancellationToken),
                    $"exchange '{record.Name}' in vhost '{record.VirtualHost}'"))
                {
                    // A declare that succeeds on an existing exchange found it equivalent: nothing changed.
                    counts.AddDeclared(found);
                }
                else
                {
                    counts.Skipped++;
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> QueuesAsync(IEnumerable<DefinitionQueue> queues)
        {
            var existing = snapshot.Queues.ToDictionary(q => (q.VirtualHost, q.Name));
            var counts = new Counter();
            foreach (var queue in queues)
            {
                var record = new QueueRecord(queue.VirtualHost, queue.Name, queue.Durable, queue.AutoDelete, QueueArguments(queue));
                var found = existing.TryGetValue((record.VirtualHost, record.Name), out var current);
                if (found && current!.ExclusiveOwner is null && current.Durable == record.Durable
                    && current.AutoDelete == record.AutoDelete && SameJson(current.Arguments, record.Arguments))
                {
                    counts.Unchanged++;
                }
                else if (await TryAsync(
                    () => store.DeclareQueueAsync(record, passive: false, cancellationToken),
                    $"queue '{record.Name}' in vhost '{record.VirtualHost}'"))
                {
                    counts.AddDeclared(found);
                }
                else
                {
                    counts.Skipped++;
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> BindingsAsync(IEnumerable<DefinitionBinding> bindings)
        {
            var existing = snapshot.Bindings.ToLookup(b => (b.VirtualHost, b.Source, b.Destination, b.DestinationType, b.RoutingKey));
            var counts = new Counter();
            foreach (var binding in bindings)
            {
                if (binding.Source.Length == 0)
                {
                    // Every queue is bound to the default exchange implicitly; RabbitMQ never exports these.
                    counts.Skipped++;
                    continue;
                }

                var record = new BindingRecord(
                    binding.VirtualHost, binding.Source, binding.Destination, ParseDestinationType(binding.DestinationType)!.Value,
                    binding.RoutingKey, (JsonObject)binding.Arguments.DeepClone());
                var key = (record.VirtualHost, record.Source, record.Destination, record.DestinationType, record.RoutingKey);
                if (existing[key].Any(b => SameJson(b.Arguments, record.Arguments)))
                {
                    counts.Unchanged++;
                }
                else if (await TryAsync(
                    () => store.BindAsync(record, cancellationToken),
                    $"binding of {binding.DestinationType} '{record.Destination}' to exchange '{record.Source}' "
                    + $"with routing key '{record.RoutingKey}' in vhost '{record.VirtualHost}'"))
                {
                    counts.Created++;
                }
                else
                {
                    counts.Skipped++;
                }
            }

            return counts.ToCounts();
        }

        public async Task<ImportCounts> PoliciesAsync(IEnumerable<DefinitionPolicy> policies)
        {
            var existing = snapshot.Policies.ToDictionary(p => (p.VirtualHost, p.Name));
            var counts = new Counter();
            foreach (var policy in policies)
            {
                var record = new PolicyRecord(
                    policy.VirtualHost, policy.Name, policy.Pattern, policy.ApplyTo, policy.Priority,
                    (JsonObject)policy.Definition.DeepClone());
                var found = existing.TryGetValue((record.VirtualHost, record.Name), out var current);
                if (found && current!.Pattern == record.Pattern && current.ApplyTo == record.ApplyTo
                    && current.Priority == record.Priority && SameJson(current.Definition, record.Definition))
                {
                    counts.Unchanged++;
                }
                else if (await TryAsync(
                    () => store.PutPolicyAsync(record, cancellationToken),
                    $"policy '{record.Name}' in vhost '{record.VirtualHost}'"))
                {
                    counts.Add(!found);
                }
                else
                {
                    counts.Skipped++;
                }
            }

            return counts.ToCounts();
        }

        public void ReportUnsupported(RabbitMqDefinitions definitions)
        {
            if (definitions.TopicPermissions.Count > 0)
            {
                _warnings.Add(NotImported(
                    definitions.TopicPermissions.Count, "topic permission",
                    definitions.TopicPermissions.Select(t => $"user '{t.User}' on exchange '{t.Exchange}' in vhost '{t.VirtualHost}'"),
                    "the metadata store has no topic permissions; publishing and binding are checked against the vhost permissions only"));
            }

            if (definitions.Parameters.Count > 0)
            {
                _warnings.Add(NotImported(
                    definitions.Parameters.Count, "runtime parameter",
                    definitions.Parameters.Select(p => $"{p.Component} '{p.Name}' in vhost '{p.VirtualHost}'"),
                    "the metadata store has no runtime parameters (vhost limits, operator policies, shovels, federation)"));
            }

            if (definitions.GlobalParameters.Count > 0)
            {
                _warnings.Add(NotImported(
                    definitions.GlobalParameters.Count, "global parameter",
                    definitions.GlobalParameters.Select(p => $"'{p.Name}'"),
                    "the metadata store has no global parameters"));
            }
        }

        private static string NotImported(int count, string what, IEnumerable<string> items, string why) =>
            string.Create(
                CultureInfo.InvariantCulture,
                $"{count} {what}{(count == 1 ? "" : "s")} not imported ({string.Join(", ", items)}): {why}");

        /// <summary>Runs a store write; a 404 (missing vhost, user, exchange or queue) skips the entry with a warning.</summary>
        private async Task<bool> TryAsync(Func<Task> write, string what)
        {
            try
            {
                await write();
                return true;
            }
            catch (MetadataException e) when (e.ReplyCode == MetadataException.NotFound)
            {
                _warnings.Add($"{what} skipped: {e.Message}");
                return false;
            }
            catch (MetadataException e)
            {
                throw new MetadataException(e.ReplyCode, $"importing {what}: {e.Message}");
            }
        }
    }

    private sealed class Counter
    {
        public int Created { get; set; }

        public int Updated { get; set; }

        public int Unchanged { get; set; }

        public int Skipped { get; set; }

        /// <summary>Counts a successful write of an entry the store did (not) have before.</summary>
        public void Add(bool created)
        {
            if (created)
            {
                Created++;
            }
            else
            {
                Updated++;
            }
        }

        /// <summary>Counts a successful declare: an existing entity was equivalent, so unchanged.</summary>
        public void AddDeclared(bool existed)
        {
            if (existed)
            {
                Unchanged++;
            }
            else
            {
                Created++;
            }
        }

        public ImportCounts ToCounts() => new(Created, Updated, Unchanged, Skipped);
    }
}
