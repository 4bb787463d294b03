using System.Net;
using MetaService.Contracts;

namespace Gateway.Server.Security;

/// <summary>
/// Users, passwords and vhost access from the metadata service (embedded or remote): RabbitMQ's
/// salted hashes are verified here, so the password never leaves the gateway process.
/// </summary>
public sealed class MetadataCredentialStore : ICredentialStore
{
    private readonly IMetadataStore _store;
    private readonly HashSet<string> _loopbackUsers;

    public MetadataCredentialStore(IMetadataStore store, IEnumerable<string> loopbackUsers)
    {
        _store = store;
        _loopbackUsers = new HashSet<string>(loopbackUsers, StringComparer.Ordinal);
    }

    public async ValueTask<AuthenticatedUser?> AuthenticateAsync(string userName, string password, IPAddress? remote, CancellationToken cancellationToken)
    {
        var user = await _store.GetUserAsync(userName, cancellationToken);
        if (user is null || !RabbitPasswordHashing.Verify(password, user.PasswordHash, user.HashingAlgorithm))
        {
            return null;
        }

        // RabbitMQ's loopback_users: refused from other hosts with the same ACCESS_REFUSED as a bad password.
        if (_loopbackUsers.Contains(userName) && (remote is null || !IPAddress.IsLoopback(remote)))
        {
            return null;
        }

        return new AuthenticatedUser(user.Name, user.Tags);
    }

    public async ValueTask<VirtualHostAccess> CheckVirtualHostAsync(AuthenticatedUser user, string virtualHost, CancellationToken cancellationToken)
    {
        if (await _store.GetVirtualHostAsync(virtualHost, cancellationToken) is null)
        {
            return VirtualHostAccess.NotFound;
        }

        // RabbitMQ lets a user open a vhost only if some permission entry exists for it there.
        return await _store.GetPermissionAsync(user.Name, virtualHost, cancellationToken) is null
            ? VirtualHostAccess.Refused
            : VirtualHostAccess.Granted;
    }
}
