using System.Net;

namespace Gateway.Server.Security;

/// <summary>
/// Who may log in and which vhosts they may open: the metadata store in production
/// (<see cref="MetadataCredentialStore"/> over the metadata store; tests also use a fixed in-memory one).
/// </summary>
public interface ICredentialStore
{
    /// <summary>Checks a user name and password coming from <paramref name="remote"/>.</summary>
    ValueTask<AuthenticatedUser?> AuthenticateAsync(string userName, string password, IPAddress? remote, CancellationToken cancellationToken);

    ValueTask<VirtualHostAccess> CheckVirtualHostAsync(AuthenticatedUser user, string virtualHost, CancellationToken cancellationToken);
}

public sealed record AuthenticatedUser(string Name, IReadOnlyList<string> Tags);

public enum VirtualHostAccess
{
    Granted,
    NotFound,
    Refused,
}
