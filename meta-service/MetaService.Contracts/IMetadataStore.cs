namespace MetaService.Contracts;

/// <summary>
/// The metadata service's operations, with RabbitMQ's semantics. Implemented in-process over EF Core
/// (the embedded SQLite default, or PostgreSQL) and remotely by the typed HTTP client (MetaServiceClient);
/// the gateway depends only on this interface. Refusals throw <see cref="MetadataException"/>.
/// Every successful mutation commits one or more <see cref="MetadataChange"/>s atomically with it.
/// </summary>
public interface IMetadataStore
{
    // ---- virtual hosts, users, permissions

    Task<IReadOnlyList<VirtualHostRecord>> ListVirtualHostsAsync(CancellationToken cancellationToken = default);

    Task<VirtualHostRecord?> GetVirtualHostAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates a vhost; a new vhost gets RabbitMQ's built-in exchanges (amq.direct, amq.fanout, …).</summary>
    Task PutVirtualHostAsync(VirtualHostRecord virtualHost, CancellationToken cancellationToken = default);

    /// <summary>Deletes a vhost with everything in it. Missing vhost: 404.</summary>
    Task DeleteVirtualHostAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken = default);

    Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates a user from an already-hashed password (import, API with hash).</summary>
    Task PutUserAsync(UserRecord user, CancellationToken cancellationToken = default);

    Task DeleteUserAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PermissionRecord>> ListPermissionsAsync(CancellationToken cancellationToken = default);

    Task<PermissionRecord?> GetPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default);

    /// <summary>Sets a user's permissions in a vhost; both must exist (404 otherwise).</summary>
    Task SetPermissionAsync(PermissionRecord permission, CancellationToken cancellationToken = default);

    Task ClearPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default);

    // ---- topology

    /// <summary>
    /// exchange.declare: creates, or checks equivalence with an existing exchange (type, durable,
    /// auto-delete, internal, arguments → 406 "inequivalent arg …"). Passive: 404 if missing.
    /// Default and amq.* names: 403 as RabbitMQ. Atomic under concurrent declares from many gateways.
    /// Returns the stored exchange.
    /// </summary>
    Task<ExchangeRecord> DeclareExchangeAsync(ExchangeRecord exchange, bool passive, CancellationToken cancellationToken = default);

    /// <summary>exchange.delete; succeeds when missing (RabbitMQ); if-unused with bindings: 406.</summary>
    Task DeleteExchangeAsync(string virtualHost, string name, bool ifUnused, CancellationToken cancellationToken = default);

    Task<ExchangeRecord?> GetExchangeAsync(string virtualHost, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// queue.declare: creates (assigning its log topic), or checks equivalence (durable, auto-delete,
    /// exclusive owner → 405, and the arguments the queue type knows → 406). Passive: 404 if missing.
    /// Returns the stored queue. Atomic under concurrent declares from many gateways: exactly one of
    /// two conflicting declares wins, the other gets 406.
    /// </summary>
    Task<QueueRecord> DeclareQueueAsync(QueueRecord queue, bool passive, CancellationToken cancellationToken = default);

    /// <summary>queue.delete with its bindings; returns the deleted queue, or null when it did not exist.</summary>
    Task<QueueRecord?> DeleteQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default);

    Task<QueueRecord?> GetQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default);

    /// <summary>queue.bind / exchange.bind: source and destination must exist (404); idempotent.</summary>
    Task BindAsync(BindingRecord binding, CancellationToken cancellationToken = default);

    /// <summary>queue.unbind / exchange.unbind: succeeds when the binding does not exist.</summary>
    Task UnbindAsync(BindingRecord binding, CancellationToken cancellationToken = default);

    // ---- policies

    Task PutPolicyAsync(PolicyRecord policy, CancellationToken cancellationToken = default);

    Task DeletePolicyAsync(string virtualHost, string name, CancellationToken cancellationToken = default);

    // ---- state and change feed

    Task<MetadataSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes with revision &gt; <paramref name="afterRevision"/>. If there are none yet, waits up to
    /// <paramref name="maxWait"/> for one (long poll) and returns an empty batch on timeout.
    /// </summary>
    Task<ChangeBatch> GetChangesAsync(long afterRevision, TimeSpan maxWait, CancellationToken cancellationToken = default);
}
