using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Server.Security;

namespace TestSupport;

/// <summary>
/// Fixed users and vhosts for tests that drive connections without a metadata database (the
/// connection fuzz runs tens of thousands of logins); every user may open every vhost.
/// </summary>
public sealed class StaticCredentialStore : ICredentialStore
{
    private readonly Dictionary<string, StaticUser> _users;
    private readonly HashSet<string> _virtualHosts;
    private readonly HashSet<string> _loopbackUsers;

    public StaticCredentialStore()
        : this([new StaticUser("guest", "guest", ["administrator"])], ["/"], ["guest"])
    {
    }

    public StaticCredentialStore(IEnumerable<StaticUser> users, IEnumerable<string> virtualHosts, IEnumerable<string> loopbackUsers)
    {
        _users = users.ToDictionary(u => u.Name, StringComparer.Ordinal);
        _virtualHosts = new HashSet<string>(virtualHosts, StringComparer.Ordinal);
        _loopbackUsers = new HashSet<string>(loopbackUsers, StringComparer.Ordinal);
    }

    public ValueTask<AuthenticatedUser?> AuthenticateAsync(string userName, string password, IPAddress? remote, CancellationToken cancellationToken)
    {
        if (!_users.TryGetValue(userName, out var user) || !PasswordsEqual(user.Password, password))
        {
            return ValueTask.FromResult<AuthenticatedUser?>(null);
        }

        // RabbitMQ refuses loopback_users from other hosts with the same ACCESS_REFUSED as a bad password.
        if (_loopbackUsers.Contains(userName) && (remote is null || !IPAddress.IsLoopback(remote)))
        {
            return ValueTask.FromResult<AuthenticatedUser?>(null);
        }

        return ValueTask.FromResult<AuthenticatedUser?>(new AuthenticatedUser(user.Name, user.Tags ?? []));
    }

    public ValueTask<VirtualHostAccess> CheckVirtualHostAsync(AuthenticatedUser user, string virtualHost, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_virtualHosts.Contains(virtualHost) ? VirtualHostAccess.Granted : VirtualHostAccess.NotFound);

    // Constant-time so response timing does not reveal how much of a password matched.
    private static bool PasswordsEqual(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
}

public sealed record StaticUser(string Name, string Password, IReadOnlyList<string>? Tags = null);
