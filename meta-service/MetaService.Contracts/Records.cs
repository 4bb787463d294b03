using System.Text.Json.Nodes;

namespace MetaService.Contracts;

/// <summary>A virtual host (RabbitMQ vhost): the namespace of exchanges, queues and permissions.</summary>
public sealed record VirtualHostRecord(string Name, string? Description = null, IReadOnlyList<string>? Tags = null);

/// <summary>
/// A user as RabbitMQ stores one: a salted password hash (never the password) and tags.
/// <see cref="PasswordHash"/> is base64 of (4-byte salt ‖ hash(salt ‖ UTF-8 password)), the format of
/// RabbitMQ's definitions files, so imported users keep their passwords.
/// </summary>
public sealed record UserRecord(string Name, string PasswordHash, string HashingAlgorithm, IReadOnlyList<string> Tags);

/// <summary>configure / write / read regular expressions of a user in a vhost (RabbitMQ's permission model).</summary>
public sealed record PermissionRecord(string User, string VirtualHost, string Configure, string Write, string Read);

/// <summary>An exchange. <see cref="Arguments"/> holds the AMQP arguments as JSON values, as RabbitMQ's definitions do.</summary>
public sealed record ExchangeRecord(
    string VirtualHost,
    string Name,
    string Type,
    bool Durable,
    bool AutoDelete,
    bool Internal,
    JsonObject Arguments);

/// <summary>
/// A queue and the log topic that stores it. <see cref="Topic"/> is assigned by the metadata service
/// at creation and never reused, so a deleted and redeclared queue starts on an empty topic, and a
/// queue can move to another store by changing only this mapping.
/// </summary>
public sealed record QueueRecord(
    string VirtualHost,
    string Name,
    bool Durable,
    bool AutoDelete,
    JsonObject Arguments,
    string? ExclusiveOwner = null,
    string Topic = "");

public enum BindingDestinationType
{
    Queue,
    Exchange,
}

/// <summary>A binding from a source exchange to a queue or (exchange-to-exchange) another exchange.</summary>
public sealed record BindingRecord(
    string VirtualHost,
    string Source,
    string Destination,
    BindingDestinationType DestinationType,
    string RoutingKey,
    JsonObject Arguments);

/// <summary>
/// A RabbitMQ-style policy (name, pattern, apply-to, priority, definition). The gateway's own policy
/// keys (graded redelivery, pause state, rate limits) live in the same definition object.
/// </summary>
public sealed record PolicyRecord(
    string VirtualHost,
    string Name,
    string Pattern,
    string ApplyTo,
    int Priority,
    JsonObject Definition);

/// <summary>Everything at one revision: what a gateway loads at start before following the change feed.</summary>
public sealed record MetadataSnapshot(
    long Revision,
    IReadOnlyList<VirtualHostRecord> VirtualHosts,
    IReadOnlyList<UserRecord> Users,
    IReadOnlyList<PermissionRecord> Permissions,
    IReadOnlyList<ExchangeRecord> Exchanges,
    IReadOnlyList<QueueRecord> Queues,
    IReadOnlyList<BindingRecord> Bindings,
    IReadOnlyList<PolicyRecord> Policies);

public enum ChangeOperation
{
    Upsert,
    Delete,
}

/// <summary>
/// One committed change. Revisions increase monotonically without gaps per metadata database;
/// <see cref="Value"/> is the entity as JSON after an upsert (users without secrets: hashes only),
/// or its key fields for a delete.
/// </summary>
public sealed record MetadataChange(long Revision, string Entity, ChangeOperation Operation, JsonObject Value);

/// <summary>Changes after a revision, and the revision a follower should ask from next.</summary>
public sealed record ChangeBatch(long Revision, IReadOnlyList<MetadataChange> Changes);
