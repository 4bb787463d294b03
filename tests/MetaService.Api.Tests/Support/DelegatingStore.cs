using MetaService.Contracts;

namespace MetaService.Api.Tests.Support;

/// <summary>An <see cref="IMetadataStore"/> that passes every call on; tests override the calls they tamper with.</summary>
public abstract class DelegatingStore(IMetadataStore inner) : IMetadataStore
{
    public virtual Task<IReadOnlyList<VirtualHostRecord>> ListVirtualHostsAsync(CancellationToken cancellationToken = default) =>
        inner.ListVirtualHostsAsync(cancellationToken);

    public virtual Task<VirtualHostRecord?> GetVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        inner.GetVirtualHostAsync(name, cancellationToken);

    public virtual Task PutVirtualHostAsync(VirtualHostRecord virtualHost, CancellationToken cancellationToken = default) =>
        inner.PutVirtualHostAsync(virtualHost, cancellationToken);

    public virtual Task DeleteVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        inner.DeleteVirtualHostAsync(name, cancellationToken);

    public virtual Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        inner.ListUsersAsync(cancellationToken);

    public virtual Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken = default) =>
        inner.GetUserAsync(name, cancellationToken);

    public virtual Task PutUserAsync(UserRecord user, CancellationToken cancellationToken = default) =>
        inner.PutUserAsync(user, cancellationToken);

    public virtual Task DeleteUserAsync(string name, CancellationToken cancellationToken = default) =>
        inner.DeleteUserAsync(name, cancellationToken);

    public virtual Task<IReadOnlyList<PermissionRecord>> ListPermissionsAsync(CancellationToken cancellationToken = default) =>
        inner.ListPermissionsAsync(cancellationToken);

    public virtual Task<PermissionRecord?> GetPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        inner.GetPermissionAsync(user, virtualHost, cancellationToken);

    public virtual Task SetPermissionAsync(PermissionRecord permission, CancellationToken cancellationToken = default) =>
        inner.SetPermissionAsync(permission, cancellationToken);

    public virtual Task ClearPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        inner.ClearPermissionAsync(user, virtualHost, cancellationToken);

    public virtual Task<ExchangeRecord> DeclareExchangeAsync(ExchangeRecord exchange, bool passive, CancellationToken cancellationToken = default) =>
        inner.DeclareExchangeAsync(exchange, passive, cancellationToken);

    public virtual Task DeleteExchangeAsync(string virtualHost, string name, bool ifUnused, CancellationToken cancellationToken = default) =>
        inner.DeleteExchangeAsync(virtualHost, name, ifUnused, cancellationToken);

    public virtual Task<ExchangeRecord?> GetExchangeAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        inner.GetExchangeAsync(virtualHost, name, cancellationToken);

    public virtual Task<QueueRecord> DeclareQueueAsync(QueueRecord queue, bool passive, CancellationToken cancellationToken = default) =>
        inner.DeclareQueueAsync(queue, passive, cancellationToken);

    public virtual Task<QueueRecord?> DeleteQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        inner.DeleteQueueAsync(virtualHost, name, cancellationToken);

    public virtual Task<QueueRecord?> GetQueueAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        inner.GetQueueAsync(virtualHost, name, cancellationToken);

    public virtual Task BindAsync(BindingRecord binding, CancellationToken cancellationToken = default) =>
        inner.BindAsync(binding, cancellationToken);

    public virtual Task UnbindAsync(BindingRecord binding, CancellationToken cancellationToken = default) =>
        inner.UnbindAsync(binding, cancellationToken);

    public virtual Task PutPolicyAsync(PolicyRecord policy, CancellationToken cancellationToken = default) =>
        inner.PutPolicyAsync(policy, cancellationToken);

    public virtual Task DeletePolicyAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        inner.DeletePolicyAsync(virtualHost, name, cancellationToken);

    public virtual Task<MetadataSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        inner.GetSnapshotAsync(cancellationToken);

    public virtual Task<ChangeBatch> GetChangesAsync(long afterRevision, TimeSpan maxWait, CancellationToken cancellationToken = default) =>
        inner.GetChangesAsync(afterRevision, maxWait, cancellationToken);
}
