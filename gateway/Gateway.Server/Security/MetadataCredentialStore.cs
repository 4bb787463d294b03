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

    public async ValueTask<AuthenticatedUser?> AuthenticateAsync(string userName, string password, IPAddress? remote, CancellationToken cancellationToken) =>
        CheckLogin(await _store.GetUserAsync(userName, cancellationToken), password, remote, _loopbackUsers);

    /// <summary>
    /// RabbitMQ's login rule: the salted hash must match, and loopback_users (guest by default) are
    /// refused from other hosts with the same ACCESS_REFUSED as a bad password.
    /// </summary>
    internal static AuthenticatedUser? CheckLogin(UserRecord? user, string password, IPAddress? remote, HashSet<string> loopbackUsers)
    {
        if (user is null || !RabbitPasswordHashing.Verify(password, user.PasswordHash, user.HashingAlgorithm))
        {
            return null;
        }

        if (loopbackUsers.Contains(user.Name) && (remote is null || !IPAddress.IsLoopback(remote)))
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
