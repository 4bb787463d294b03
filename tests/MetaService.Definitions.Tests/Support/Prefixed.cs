using MetaService.Contracts.Definitions;

namespace MetaService.Definitions.Tests.Support;

/// <summary>
/// Puts a document's vhosts and users under a unique prefix for a shared RabbitMQ node, and back. The
/// default vhost "/" and the guest user are left out: a shared node's own must not be overwritten.
/// </summary>
internal static class Prefixed
{
    public static RabbitMqDefinitions Scope(RabbitMqDefinitions d, string prefix)
    {
        var vhosts = d.VirtualHosts.Select(v => v.Name).Where(v => v != "/").ToHashSet(StringComparer.Ordinal);
        var users = d.Users.Select(u => u.Name).Where(u => u != "guest").ToHashSet(StringComparer.Ordinal);
        return Map(d, vhosts.Contains, users.Contains, name => prefix + name);
    }

    public static RabbitMqDefinitions Unscope(RabbitMqDefinitions d, string prefix) =>
        Map(
            d,
            v => v.StartsWith(prefix, StringComparison.Ordinal),
            u => u.StartsWith(prefix, StringComparison.Ordinal),
            name => name[prefix.Length..]);

    private static RabbitMqDefinitions Map(
        RabbitMqDefinitions d, Func<string, bool> keepVhost, Func<string, bool> keepUser, Func<string, string> rename) => new()
    {
        RabbitVersion = d.RabbitVersion,
        RabbitMqVersion = d.RabbitMqVersion,
        ProductName = d.ProductName,
        ProductVersion = d.ProductVersion,
        VirtualHosts = [.. d.VirtualHosts.Where(v => keepVhost(v.Name)).Select(v => v with { Name = rename(v.Name) })],
        Users = [.. d.Users.Where(u => keepUser(u.Name)).Select(u => u with { Name = rename(u.Name) })],
        Permissions =
        [
            .. d.Permissions.Where(p => keepVhost(p.VirtualHost) && keepUser(p.User))
                .Select(p => p with { VirtualHost = rename(p.VirtualHost), User = rename(p.User) }),
        ],
        TopicPermissions =
        [
            .. d.TopicPermissions.Where(p => keepVhost(p.VirtualHost) && keepUser(p.User))
                .Select(p => p with { VirtualHost = rename(p.VirtualHost), User = rename(p.User) }),
        ],
        Parameters = [.. d.Parameters.Where(p => keepVhost(p.VirtualHost)).Select(p => p with { VirtualHost = rename(p.VirtualHost) })],
        Policies = [.. d.Policies.Where(p => keepVhost(p.VirtualHost)).Select(p => p with { VirtualHost = rename(p.VirtualHost) })],
        Exchanges = [.. d.Exchanges.Where(e => keepVhost(e.VirtualHost)).Select(e => e with { VirtualHost = rename(e.VirtualHost) })],
        Queues = [.. d.Queues.Where(q => keepVhost(q.VirtualHost)).Select(q => q with { VirtualHost = rename(q.VirtualHost) })],
        Bindings = [.. d.Bindings.Where(b => keepVhost(b.VirtualHost)).Select(b => b with { VirtualHost = rename(b.VirtualHost) })],
    };
}
