using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace Gateway.Server.Security;

/// <summary>
/// Logins against a remote meta-service. Its users API never returns password hashes, so the gateway
/// keeps users, vhosts and permissions in memory from the snapshot and change feed (which do carry
/// hashes, to token holders only) through a <see cref="MetadataFollower"/>. This also keeps logins
/// working while the meta-service restarts: the last known state stays in force.
/// </summary>
public sealed class FollowedCredentialStore : ICredentialStore
{
    private readonly ConcurrentDictionary<string, UserRecord> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _virtualHosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string User, string VirtualHost), PermissionRecord> _permissions = new();
    private readonly HashSet<string> _loopbackUsers;

    public FollowedCredentialStore(IEnumerable<string> loopbackUsers)
    {
        _loopbackUsers = new HashSet<string>(loopbackUsers, StringComparer.Ordinal);
    }

    /// <summary>Follower callback: replace everything with a snapshot.</summary>
    public ValueTask ApplySnapshotAsync(MetadataSnapshot snapshot, CancellationToken cancellationToken)
    {
        _users.Clear();
        _virtualHosts.Clear();
        _permissions.Clear();
        foreach (var user in snapshot.Users)
        {
            _users[user.Name] = user;
        }

        foreach (var virtualHost in snapshot.VirtualHosts)
        {
            _virtualHosts[virtualHost.Name] = 0;
        }

        foreach (var permission in snapshot.Permissions)
        {
            _permissions[(permission.User, permission.VirtualHost)] = permission;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Follower callback: apply one change (values are the records as camelCase JSON).</summary>
    public ValueTask ApplyChangeAsync(MetadataChange change, CancellationToken cancellationToken)
    {
        var value = change.Value;
        var delete = change.Operation == ChangeOperation.Delete;
        switch (change.Entity)
        {
            case ChangeEntities.User:
                var name = Text(value, "name");
                if (delete)
                {
                    _users.TryRemove(name, out _);
                }
                else
                {
                    _users[name] = new UserRecord(name, Text(value, "passwordHash"), Text(value, "hashingAlgorithm"), Tags(value));
                }

                break;
            case ChangeEntities.VirtualHost:
                if (delete)
                {
                    _virtualHosts.TryRemove(Text(value, "name"), out _);
                }
                else
                {
                    _virtualHosts[Text(value, "name")] = 0;
                }

                break;
            case ChangeEntities.Permission:
                var key = (Text(value, "user"), Text(value, "virtualHost"));
                if (delete)
                {
                    _permissions.TryRemove(key, out _);
                }
                else
                {
                    _permissions[key] = new PermissionRecord(key.Item1, key.Item2, Text(value, "configure"), Text(value, "write"), Text(value, "read"));
                }

                break;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<AuthenticatedUser?> AuthenticateAsync(string userName, string password, IPAddress? remote, CancellationToken cancellationToken) =>
        ValueTask.FromResult(MetadataCredentialStore.CheckLogin(_users.GetValueOrDefault(userName), password, remote, _loopbackUsers));

    public ValueTask<VirtualHostAccess> CheckVirtualHostAsync(AuthenticatedUser user, string virtualHost, CancellationToken cancellationToken)
    {
        var access = !_virtualHosts.ContainsKey(virtualHost) ? VirtualHostAccess.NotFound
            : _permissions.ContainsKey((user.Name, virtualHost)) ? VirtualHostAccess.Granted
            : VirtualHostAccess.Refused;
        return ValueTask.FromResult(access);
    }

    private static string Text(JsonObject value, string property) => value[property]?.GetValue<string>() ?? string.Empty;

    private static string[] Tags(JsonObject value) =>
        value["tags"] is JsonArray tags ? [.. tags.Select(t => t?.GetValue<string>() ?? string.Empty)] : [];
}
