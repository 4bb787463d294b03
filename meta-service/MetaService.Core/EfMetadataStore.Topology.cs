using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Core.Infrastructure;
using MetaService.Core.Model;
using MetaService.Core.Semantics;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core;

// Exchanges, queues and bindings with RabbitMQ's declare / bind / delete rules (rabbit_channel.erl).
public sealed partial class EfMetadataStore
{
    private const string ReservedPrefix = "amq.";
    private const string AlternateExchange = "alternate-exchange";

    // ---- exchanges

    public async Task<ExchangeRecord> DeclareExchangeAsync(ExchangeRecord exchange, bool passive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var vhost = exchange.VirtualHost;
        var name = StripCrLf(exchange.Name);

        if (passive)
        {
            // exchange.declare(passive): the default exchange is refused, a missing one is 404; nothing else is compared.
            RequireNotDefaultExchange(name);
            var found = await ReadAsync(db => FindExchangeAsync(db, vhost, name, cancellationToken), cancellationToken);
            return found?.ToRecord()
                ?? throw new MetadataException(MetadataException.NotFound, RabbitText.NotFound(RabbitText.Exchange(name, vhost)));
        }

        // RabbitMQ checks the type before anything else (rabbit_exchange:check_type/1), then the name.
        var type = exchange.Type ?? "";
        if (!_options.ExchangeTypes.Contains(type))
        {
            throw new MetadataException(CommandInvalid, RabbitText.UnknownExchangeType(type));
        }

        RequireNotDefaultExchange(name);
        var arguments = AmqpValue.Normalize(exchange.Arguments);
        var request = exchange with { Name = name, Type = type, Arguments = arguments };

        // Redeclaring an existing exchange changes nothing: check it without taking the writers' lock.
        var existing = await ReadAsync(db => FindExchangeAsync(db, vhost, name, cancellationToken), cancellationToken);
        if (existing is not null)
        {
            AssertExchangeEquivalent(existing, request);
            return existing.ToRecord();
        }

        return await WriteAsync(
            async (db, changes) =>
            {
                var current = await FindExchangeAsync(db, vhost, name, cancellationToken);
                if (current is not null)
                {
                    AssertExchangeEquivalent(current, request);
                    return current.ToRecord();
                }

                // Only the creation of an amq.* exchange is refused; redeclaring a built-in one is fine.
                if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
                {
                    throw new MetadataException(MetadataException.AccessRefused, RabbitText.ReservedPrefix("exchange", name));
                }

                if (arguments.TryGetPropertyValue(AlternateExchange, out var ae) && !AmqpValue.TryGetString(ae, out _))
                {
                    throw new MetadataException(
                        MetadataException.PreconditionFailed,
                        RabbitText.InvalidArgType(AmqpValue.TypeName(ae), AlternateExchange, RabbitText.Exchange(name, vhost)));
                }

                if (type == MetadataStoreOptions.DelayedMessageType)
                {
                    ValidateDelayedType(arguments);
                }

                await RequireVirtualHostAsync(db, vhost, cancellationToken);
                var created = new Exchange
                {
                    VirtualHost = vhost,
                    Name = name,
                    Type = type,
                    Durable = request.Durable,
                    AutoDelete = request.AutoDelete,
                    Internal = request.Internal,
                    Arguments = arguments.ToJsonString(),
                };
                db.Exchanges.Add(created);
                var record = created.ToRecord();
                changes.Upsert(ChangeEntities.Exchange, record);
                return record;
            },
            cancellationToken,
            _options.OptimisticDeclares ? WriterLock.BeforeChangeLog : WriterLock.BeforeReads);
    }

    public Task<ExchangeRecord?> GetExchangeAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        ReadAsync(async db => (await FindExchangeAsync(db, virtualHost, name, cancellationToken))?.ToRecord(), cancellationToken);

    public Task DeleteExchangeAsync(string virtualHost, string name, bool ifUnused, CancellationToken cancellationToken = default)
    {
        name = StripCrLf(name);
        RequireNotDefaultExchange(name);
        if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
        {
            throw new MetadataException(MetadataException.AccessRefused, RabbitText.SystemExchangeDeletion(name, virtualHost));
        }

        return WriteAsync(
            async (db, changes) =>
            {
                var exchange = await FindExchangeAsync(db, virtualHost, name, cancellationToken);
                if (exchange is null)
                {
                    return;
                }

                if (ifUnused && await db.Bindings.AnyAsync(b => b.VirtualHost == virtualHost && b.Source == name, cancellationToken))
                {
                    throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.InUse(RabbitText.Exchange(name, virtualHost)));
                }

                await DeleteExchangeAndBindingsAsync(db, changes, exchange, cancellationToken);
            },
            cancellationToken);
    }

    private static void AssertExchangeEquivalent(Exchange current, ExchangeRecord request)
    {
        var resource = RabbitText.Exchange(current.Name, current.VirtualHost);
        Equivalence.AssertField(current.Type, request.Type, resource, "type");
        Equivalence.AssertField(current.Durable, request.Durable, resource, "durable");
        Equivalence.AssertField(current.AutoDelete, request.AutoDelete, resource, "auto_delete");
        Equivalence.AssertField(current.Internal, request.Internal, resource, "internal");

        // The built-in exchange types compare only alternate-exchange (rabbit_exchange:assert_args_equivalence/2).
        Equivalence.AssertArguments(RecordMapping.ReadObject(current.Arguments), request.Arguments, resource, [AlternateExchange]);
    }

    /// <summary>
    /// rabbit_exchange_type_delayed_message:validate/1, which rabbit_exchange:declare runs only when it creates the
    /// exchange: x-delayed-type must be a string naming another known type (503 from rabbit_exchange:check_type for an
    /// unknown one). A redeclare does not look at it: the plugin's assert_args_equivalence is its x-delayed-type's, which
    /// compares only alternate-exchange.
    /// </summary>
    private void ValidateDelayedType(JsonObject arguments)
    {
        if (!arguments.TryGetPropertyValue("x-delayed-type", out var value) || !AmqpValue.TryGetString(value, out var delayedType))
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.DelayedTypeMissing);
        }

        if (delayedType == MetadataStoreOptions.DelayedMessageType)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, RabbitText.DelayedTypeRecursive);
        }

        if (!_options.ExchangeTypes.Contains(delayedType))
        {
            throw new MetadataException(CommandInvalid, RabbitText.UnknownExchangeType(delayedType));
        }
    }

        private static void RequireNotDefaultExchange(string name)
    {
        if (name.Length == 0)
        {
            throw new MetadataException(MetadataException.AccessRefused, RabbitText.DefaultExchange);
        }
    }

    // ---- queues

    public async Task<QueueRecord> DeclareQueueAsync(QueueRecord queue, bool passive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var vhost = queue.VirtualHost;
        var name = StripCrLf(queue.Name);

        if (passive)
        {
            // queue.declare(passive): 404 when missing; another connection's exclusive queue is 405 (lax check).
            var found = await ReadAsync(db => FindQueueAsync(db, vhost, name, cancellationToken), cancellationToken)
                ?? throw new MetadataException(MetadataException.NotFound, RabbitText.NotFound(RabbitText.Queue(name, vhost)));
            if (found.ExclusiveOwner is not null && found.ExclusiveOwner != queue.ExclusiveOwner)
            {
                throw new MetadataException(MetadataException.ResourceLocked, RabbitText.ExclusiveLocked(name, vhost));
            }

            return found.ToRecord();
        }

        // "" asks for a server-named queue; any other amq.* name is refused, even for an existing queue.
        if (name.Length == 0)
        {
            name = ServerNamedQueue();
        }
        else if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
        {
            throw new MetadataException(MetadataException.AccessRefused, RabbitText.ReservedPrefix("queue", name));
        }

        var owner = queue.ExclusiveOwner;
        var request = queue with
        {
            Name = name,

            // rabbit_channel: an exclusive queue is never durable.
            Durable = queue.Durable && owner is null,
            Arguments = AmqpValue.Normalize(queue.Arguments),
        };

        var existing = await ReadAsync(db => FindQueueAsync(db, vhost, name, cancellationToken), cancellationToken);
        if (existing is not null)
        {
            AssertQueueEquivalent(existing, request);
            return existing.ToRecord();
        }

        return await WriteAsync(
            async (db, changes) =>
            {
                var current = await FindQueueAsync(db, vhost, name, cancellationToken);
                if (current is not null)
                {
                    AssertQueueEquivalent(current, request);
                    return current.ToRecord();
                }

                QueueTypes.ValidateNewQueue(vhost, name, request.Durable, request.AutoDelete, owner, request.Arguments);
                await RequireVirtualHostAsync(db, vhost, cancellationToken);
                var created = new Queue
                {
                    VirtualHost = vhost,
                    Name = name,
                    Durable = request.Durable,
                    AutoDelete = request.AutoDelete,
                    ExclusiveOwner = owner,
                    Arguments = request.Arguments.ToJsonString(),

                    // A fresh topic for every creation: never reused, so a redeclared queue starts empty.
                    Topic = "q-" + Guid.NewGuid().ToString("N"),
                };
                db.Queues.Add(created);
                var record = created.ToRecord();
                changes.Upsert(ChangeEntities.Queue, record);
                return record;
            },
            cancellationToken,
            _options.OptimisticDeclares ? WriterLock.BeforeChangeLog : WriterLock.BeforeReads);
    }

    public Task<QueueRecord?> GetQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        ReadAsync(async db => (await FindQueueAsync(db, virtualHost, name, cancellationToken))?.ToRecord(), cancellationToken);

    public Task<QueueRecord?> DeleteQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default)
    {
        name = StripCrLf(name);
        return WriteAsync(
            async (db, changes) =>
            {
                var queue = await FindQueueAsync(db, virtualHost, name, cancellationToken);
                if (queue is null)
                {
                    return null;
                }

                var bindings = await db.Bindings
                    .Where(b => b.VirtualHost == virtualHost && b.Destination == name && b.DestinationType == RecordMapping.QueueDestination)
                    .OrderBy(b => b.Id)
                    .ToListAsync(cancellationToken);
                var record = queue.ToRecord();
                await RemoveBindingsAsync(db, changes, bindings, [], () =>
                {
                    db.Queues.Remove(queue);
                    changes.Delete(ChangeEntities.Queue, record);
                }, cancellationToken);
                return record;
            },
            cancellationToken);
    }

    private static void AssertQueueEquivalent(Queue current, QueueRecord request)
    {
        // rabbit_amqqueue:assert_equivalence/5: exclusive owner (strict), durable, auto_delete, then the type's arguments.
        if (current.ExclusiveOwner != request.ExclusiveOwner)
        {
            throw new MetadataException(MetadataException.ResourceLocked, RabbitText.ExclusiveLocked(current.Name, current.VirtualHost));
        }

        var resource = RabbitText.Queue(current.Name, current.VirtualHost);
        Equivalence.AssertField(current.Durable, request.Durable, resource, "durable");
        Equivalence.AssertField(current.AutoDelete, request.AutoDelete, resource, "auto_delete");
        var currentArguments = RecordMapping.ReadObject(current.Arguments);
        Equivalence.AssertArguments(currentArguments, request.Arguments, resource, QueueTypes.ArgumentsOf(QueueTypes.TypeOf(currentArguments)));
    }

    /// <summary>RabbitMQ's server-generated name: "amq.gen-" and 16 random bytes in URL-safe base64.</summary>
    private static string ServerNamedQueue()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return "amq.gen-" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    // ---- bindings

    public Task BindAsync(BindingRecord binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var (vhost, source, destination, destinationType, routingKey, arguments, argumentsJson, hash) = Normalize(binding);
        RequireNotDefaultExchangeInBinding(source, destination, destinationType);

        return WriteAsync(
            async (db, changes) =>
            {
                // rabbit_binding: the source is looked up first, then the destination; the first missing one is reported.
                var sourceExchange = await FindExchangeAsync(db, vhost, source, cancellationToken)
                    ?? throw new MetadataException(MetadataException.NotFound, RabbitText.NotFound(RabbitText.Exchange(source, vhost)));
                var destinationExists = destinationType == RecordMapping.ExchangeDestination
                    ? await db.Exchanges.AnyAsync(e => e.VirtualHost == vhost && e.Name == destination, cancellationToken)
                    : await db.Queues.AnyAsync(q => q.VirtualHost == vhost && q.Name == destination, cancellationToken);
                if (!destinationExists)
                {
                    var resource = destinationType == RecordMapping.ExchangeDestination
                        ? RabbitText.Exchange(destination, vhost)
                        : RabbitText.Queue(destination, vhost);
                    throw new MetadataException(MetadataException.NotFound, RabbitText.NotFound(resource));
                }

                if (sourceExchange.Type == "headers")
                {
                    ValidateHeadersBinding(arguments);
                }

                if (await FindBindingAsync(db, vhost, source, destination, destinationType, routingKey, hash, cancellationToken) is not null)
                {
                    return;
                }

                var created = new Binding
                {
                    VirtualHost = vhost,
                    Source = source,
                    Destination = destination,
                    DestinationType = destinationType,
                    RoutingKey = routingKey,
                    Arguments = argumentsJson,
                    ArgumentsHash = hash,
                };
                db.Bindings.Add(created);
                changes.Upsert(ChangeEntities.Binding, created.ToRecord());
            },
            cancellationToken);
    }

    public Task UnbindAsync(BindingRecord binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var (vhost, source, destination, destinationType, routingKey, _, _, hash) = Normalize(binding);
        RequireNotDefaultExchangeInBinding(source, destination, destinationType);

        return WriteAsync(
            async (db, changes) =>
            {
                // A missing binding, source or destination is not an error (rabbit_binding:remove/3).
                var existing = await FindBindingAsync(db, vhost, source, destination, destinationType, routingKey, hash, cancellationToken);
                if (existing is not null)
                {
                    await RemoveBindingsAsync(db, changes, [existing], [], () => { }, cancellationToken);
                }
            },
            cancellationToken);
    }

    private static (string VirtualHost, string Source, string Destination, string DestinationType, string RoutingKey,
        JsonObject Arguments, string ArgumentsJson, string Hash) Normalize(BindingRecord binding)
    {
        var arguments = AmqpValue.Normalize(binding.Arguments);
        var json = CanonicalJson.Write(arguments);
        return (binding.VirtualHost, StripCrLf(binding.Source), StripCrLf(binding.Destination),
            RecordMapping.DestinationTypeText(binding.DestinationType), binding.RoutingKey ?? "", arguments, json, CanonicalJson.Hash(json));
    }

    private static void RequireNotDefaultExchangeInBinding(string source, string destination, string destinationType)
    {
        // rabbit_channel:binding_action checks the destination first, then the source.
        if (destinationType == RecordMapping.ExchangeDestination)
        {
            RequireNotDefaultExchange(destination);
        }

        RequireNotDefaultExchange(source);
    }

    /// <summary>rabbit_exchange_type_headers:validate_binding/2: x-match must be a known longstr.</summary>
    private static void ValidateHeadersBinding(JsonObject arguments)
    {
        if (!arguments.TryGetPropertyValue("x-match", out var match))
        {
            return;
        }

        if (!AmqpValue.TryGetString(match, out var text))
        {
            throw new MetadataException(
                MetadataException.PreconditionFailed,
                $"Invalid x-match field type {AmqpValue.TypeName(match)} (value {AmqpValue.Format(match)}); expected longstr");
        }

        if (text is not ("all" or "any" or "all-with-x" or "any-with-x"))
        {
            throw new MetadataException(
                MetadataException.PreconditionFailed,
                $"Invalid x-match field value <<\"{text}\">>; expected all, any, all-with-x, or any-with-x");
        }
    }

    /// <summary>
    /// Deletes bindings (logged), runs <paramref name="alsoRemove"/> (the queue or exchange being deleted),
    /// then deletes every source exchange that is auto-delete and has no bindings left, as RabbitMQ does,
    /// cascading through exchange-to-exchange bindings.
    /// </summary>
    private static async Task RemoveBindingsAsync(
        MetaDbContext db,
        ChangeSet changes,
        IReadOnlyList<Binding> bindings,
        HashSet<string> deletedExchanges,
        Action alsoRemove,
        CancellationToken cancellationToken)
    {
        foreach (var binding in bindings)
        {
            db.Bindings.Remove(binding);
            changes.Delete(ChangeEntities.Binding, binding.ToRecord());
        }

        alsoRemove();
        await db.SaveChangesAsync(cancellationToken);

        foreach (var (vhost, source) in bindings.Select(b => (b.VirtualHost, b.Source)).Distinct())
        {
            if (deletedExchanges.Contains(source))
            {
                continue;
            }

            var exchange = await FindExchangeAsync(db, vhost, source, cancellationToken);
            if (exchange is { AutoDelete: true }
                && !await db.Bindings.AnyAsync(b => b.VirtualHost == vhost && b.Source == source, cancellationToken))
            {
                await DeleteExchangeAndBindingsAsync(db, changes, exchange, cancellationToken, deletedExchanges);
            }
        }
    }

    private static async Task DeleteExchangeAndBindingsAsync(
        MetaDbContext db,
        ChangeSet changes,
        Exchange exchange,
        CancellationToken cancellationToken,
        HashSet<string>? deletedExchanges = null)
    {
        deletedExchanges ??= new HashSet<string>(StringComparer.Ordinal);
        deletedExchanges.Add(exchange.Name);
        var (vhost, name) = (exchange.VirtualHost, exchange.Name);

        // Its bindings as the source, and exchange-to-exchange bindings where it is the destination.
        var bindings = await db.Bindings
            .Where(b => b.VirtualHost == vhost
                && (b.Source == name || (b.Destination == name && b.DestinationType == RecordMapping.ExchangeDestination)))
            .OrderBy(b => b.Id)
            .ToListAsync(cancellationToken);
        await RemoveBindingsAsync(db, changes, bindings, deletedExchanges, () =>
        {
            db.Exchanges.Remove(exchange);
            changes.Delete(ChangeEntities.Exchange, exchange.ToRecord());
        }, cancellationToken);
    }

    // ---- lookups

    private static Task<Exchange?> FindExchangeAsync(MetaDbContext db, string vhost, string name, CancellationToken cancellationToken) =>
        db.Exchanges.FirstOrDefaultAsync(e => e.VirtualHost == vhost && e.Name == name, cancellationToken);

    private static Task<Queue?> FindQueueAsync(MetaDbContext db, string vhost, string name, CancellationToken cancellationToken) =>
        db.Queues.FirstOrDefaultAsync(q => q.VirtualHost == vhost && q.Name == name, cancellationToken);

    private static Task<Binding?> FindBindingAsync(
        MetaDbContext db,
        string vhost,
        string source,
        string destination,
        string destinationType,
        string routingKey,
        string hash,
        CancellationToken cancellationToken) =>
        db.Bindings.FirstOrDefaultAsync(
            b => b.VirtualHost == vhost && b.Source == source && b.Destination == destination && b.DestinationType == destinationType
                && b.RoutingKey == routingKey && b.ArgumentsHash == hash,
            cancellationToken);

    /// <summary>RabbitMQ strips CR and LF from exchange and queue names.</summary>
    private static string StripCrLf(string? name) =>
        (name ?? "").Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);

    /// <summary>503 COMMAND_INVALID, what RabbitMQ before 4.0 answers for an unknown exchange type.</summary>
    public const ushort CommandInvalid = 503;
}
