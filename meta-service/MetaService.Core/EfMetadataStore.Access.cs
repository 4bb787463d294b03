using System.Text.RegularExpressions;
using MetaService.Contracts;
using MetaService.Core.Infrastructure;
using MetaService.Core.Model;
using MetaService.Core.Semantics;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core;

// Virtual hosts, users, permissions, policies and the first-boot defaults.
public sealed partial class EfMetadataStore
{
    public const string DefaultVirtualHost = "/";
    public const string DefaultUser = "guest";

    private static readonly string[] PolicyTargets = ["all", "exchanges", "queues", "classic_queues", "quorum_queues", "streams"];

    /// <summary>
    /// RabbitMQ's first-boot defaults: when no vhost exists yet, creates vhost "/", user guest (password
    /// guest, tag administrator) and guest's ".*" ".*" ".*" permissions there. Idempotent, and safe when
    /// several instances start at once. Returns true when it created something.
    /// </summary>
    public Task<bool> EnsureDefaultsAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(
            async (db, changes) =>
            {
                if (await db.VirtualHosts.AnyAsync(cancellationToken))
                {
                    return false;
                }

                await CreateVirtualHostAsync(db, changes, new VirtualHostRecord(DefaultVirtualHost, "Default virtual host", []), cancellationToken);
                if (await db.Users.FindAsync([DefaultUser], cancellationToken) is null)
                {
                    var guest = new User
                    {
                        Name = DefaultUser,
                        PasswordHash = RabbitPasswordHashing.Hash("guest"),
                        HashingAlgorithm = RabbitPasswordHashing.Sha256,
                        Tags = RecordMapping.WriteTags(["administrator"]),
                    };
                    db.Users.Add(guest);
                    changes.Upsert(ChangeEntities.User, guest.ToRecord());
                }

                var permission = new Permission { User = DefaultUser, VirtualHost = DefaultVirtualHost, Configure = ".*", Write = ".*", Read = ".*" };
                db.Permissions.Add(permission);
                changes.Upsert(ChangeEntities.Permission, permission.ToRecord());
                return true;
            },
            cancellationToken);

    // ---- virtual hosts

    public Task<IReadOnlyList<VirtualHostRecord>> ListVirtualHostsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<VirtualHostRecord>>(
            async db => (await db.VirtualHosts.OrderBy(v => v.Name).ToListAsync(cancellationToken)).ConvertAll(v => v.ToRecord()),
            cancellationToken);

    public Task<VirtualHostRecord?> GetVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        ReadAsync(async db => (await db.VirtualHosts.FirstOrDefaultAsync(v => v.Name == name, cancellationToken))?.ToRecord(), cancellationToken);

    public Task PutVirtualHostAsync(VirtualHostRecord virtualHost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(virtualHost);
        RequireName(virtualHost.Name, "vhost");
        return WriteAsync(
            async (db, changes) =>
            {
                var existing = await db.VirtualHosts.FindAsync([virtualHost.Name], cancellationToken);
                if (existing is null)
                {
                    await CreateVirtualHostAsync(db, changes, virtualHost, cancellationToken);
                    return;
                }

                var tags = RecordMapping.WriteTags(virtualHost.Tags);
                if (existing.Description != virtualHost.Description || existing.Tags != tags)
                {
                    existing.Description = virtualHost.Description;
                    existing.Tags = tags;
                    changes.Upsert(ChangeEntities.VirtualHost, existing.ToRecord());
                }
            },
            cancellationToken);
    }

    public Task DeleteVirtualHostAsync(string name, CancellationToken cancellationToken = default) =>
        WriteAsync(
            async (db, changes) =>
            {
                var vhost = await db.VirtualHosts.FindAsync([name], cancellationToken)
                    ?? throw new MetadataException(MetadataException.NotFound, $"no vhost '{name}'");

                // Everything in it goes too, each logged, dependants first: a follower can apply the deletes in order.
                // (Read untracked: the rows are deleted in bulk below, and tracked ones would be deleted twice.)
                foreach (var binding in await db.Bindings.AsNoTracking().Where(b => b.VirtualHost == name).OrderBy(b => b.Id).ToListAsync(cancellationToken))
                {
                    changes.Delete(ChangeEntities.Binding, binding.ToRecord());
                }

                foreach (var queue in await db.Queues.AsNoTracking().Where(q => q.VirtualHost == name).OrderBy(q => q.Name).ToListAsync(cancellationToken))
                {
                    changes.Delete(ChangeEntities.Queue, queue.ToRecord());
                }

                foreach (var exchange in await db.Exchanges.AsNoTracking().Where(e => e.VirtualHost == name).OrderBy(e => e.Name).ToListAsync(cancellationToken))
                {
                    changes.Delete(ChangeEntities.Exchange, exchange.ToRecord());
                }

                foreach (var policy in await db.Policies.AsNoTracking().Where(p => p.VirtualHost == name).OrderBy(p => p.Name).ToListAsync(cancellationToken))
                {
                    changes.Delete(ChangeEntities.Policy, policy.ToRecord());
                }

                foreach (var permission in await db.Permissions.AsNoTracking().Where(p => p.VirtualHost == name).OrderBy(p => p.User).ToListAsync(cancellationToken))
                {
                    changes.Delete(ChangeEntities.Permission, permission.ToRecord());
                }

                await db.Bindings.Where(b => b.VirtualHost == name).ExecuteDeleteAsync(cancellationToken);
                await db.Queues.Where(q => q.VirtualHost == name).ExecuteDeleteAsync(cancellationToken);
                await db.Exchanges.Where(e => e.VirtualHost == name).ExecuteDeleteAsync(cancellationToken);
                await db.Policies.Where(p => p.VirtualHost == name).ExecuteDeleteAsync(cancellationToken);
                await db.Permissions.Where(p => p.VirtualHost == name).ExecuteDeleteAsync(cancellationToken);
                db.VirtualHosts.Remove(vhost);
                changes.Delete(ChangeEntities.VirtualHost, vhost.ToRecord());
            },
            cancellationToken);

    /// <summary>A new vhost and RabbitMQ's built-in exchanges in it.</summary>
    private static async Task CreateVirtualHostAsync(MetaDbContext db, ChangeSet changes, VirtualHostRecord record, CancellationToken cancellationToken)
    {
        var vhost = new VirtualHost { Name = record.Name, Description = record.Description, Tags = RecordMapping.WriteTags(record.Tags) };
        db.VirtualHosts.Add(vhost);
        changes.Upsert(ChangeEntities.VirtualHost, vhost.ToRecord());

        // The vhost row must exist before the exchanges that reference it.
        await db.SaveChangesAsync(cancellationToken);
        foreach (var (name, type, isInternal) in BuiltInExchanges)
        {
            var exchange = new Exchange
            {
                VirtualHost = record.Name,
                Name = name,
                Type = type,
                Durable = true,
                AutoDelete = false,
                Internal = isInternal,
                Arguments = "{}",
            };
            db.Exchanges.Add(exchange);
            changes.Upsert(ChangeEntities.Exchange, exchange.ToRecord());
        }
    }

    /// <summary>The exchanges RabbitMQ creates in every vhost (rabbit_vhost:do_add/3); the default exchange "" is implicit.</summary>
    private static readonly (string Name, string Type, bool Internal)[] BuiltInExchanges =
    [
        ("amq.direct", "direct", false),
        ("amq.fanout", "fanout", false),
        ("amq.headers", "headers", false),
        ("amq.match", "headers", false),
        ("amq.rabbitmq.trace", "topic", true),
        ("amq.topic", "topic", false),
    ];

    // ---- users

    public Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<UserRecord>>(
            async db => (await db.Users.OrderBy(u => u.Name).ToListAsync(cancellationToken)).ConvertAll(u => u.ToRecord()),
            cancellationToken);

    public Task<UserRecord?> GetUserAsync(string name, CancellationToken cancellationToken = default) =>
        ReadAsync(async db => (await db.Users.FirstOrDefaultAsync(u => u.Name == name, cancellationToken))?.ToRecord(), cancellationToken);

    public Task PutUserAsync(UserRecord user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        RequireName(user.Name, "user");
        if (!RabbitPasswordHashing.IsSupported(user.HashingAlgorithm))
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"unsupported password hashing algorithm '{user.HashingAlgorithm}'");
        }

        return WriteAsync(
            async (db, changes) =>
            {
                var tags = RecordMapping.WriteTags(user.Tags);
                var existing = await db.Users.FindAsync([user.Name], cancellationToken);
                if (existing is null)
                {
                    existing = new User { Name = user.Name };
                    db.Users.Add(existing);
                }
                else if (existing.PasswordHash == (user.PasswordHash ?? "") && existing.HashingAlgorithm == user.HashingAlgorithm && existing.Tags == tags)
                {
                    return;
                }

                existing.PasswordHash = user.PasswordHash ?? "";
                existing.HashingAlgorithm = user.HashingAlgorithm;
                existing.Tags = tags;
                changes.Upsert(ChangeEntities.User, existing.ToRecord());
            },
            cancellationToken);
    }

    public Task DeleteUserAsync(string name, CancellationToken cancellationToken = default) =>
        WriteAsync(
            async (db, changes) =>
            {
                var user = await db.Users.FindAsync([name], cancellationToken)
                    ?? throw new MetadataException(MetadataException.NotFound, $"no user '{name}'");
                var permissions = await db.Permissions.Where(p => p.User == name).OrderBy(p => p.VirtualHost).ToListAsync(cancellationToken);
                foreach (var permission in permissions)
                {
                    db.Permissions.Remove(permission);
                    changes.Delete(ChangeEntities.Permission, permission.ToRecord());
                }

                db.Users.Remove(user);
                changes.Delete(ChangeEntities.User, user.ToRecord());
            },
            cancellationToken);

    // ---- permissions

    public Task<IReadOnlyList<PermissionRecord>> ListPermissionsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<PermissionRecord>>(
            async db => (await db.Permissions.OrderBy(p => p.VirtualHost).ThenBy(p => p.User).ToListAsync(cancellationToken))
                .ConvertAll(p => p.ToRecord()),
            cancellationToken);

    public Task<PermissionRecord?> GetPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        ReadAsync(
            async db => (await db.Permissions.FirstOrDefaultAsync(p => p.User == user && p.VirtualHost == virtualHost, cancellationToken))?.ToRecord(),
            cancellationToken);

    public Task SetPermissionAsync(PermissionRecord permission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(permission);
        RequireRegex(permission.Configure, "configure");
        RequireRegex(permission.Write, "write");
        RequireRegex(permission.Read, "read");
        return WriteAsync(
            async (db, changes) =>
            {
                _ = await db.Users.FindAsync([permission.User], cancellationToken)
                    ?? throw new MetadataException(MetadataException.NotFound, $"no user '{permission.User}'");
                await RequireVirtualHostAsync(db, permission.VirtualHost, cancellationToken);
                var existing = await db.Permissions.FindAsync([permission.User, permission.VirtualHost], cancellationToken);
                if (existing is null)
                {
                    existing = new Permission { User = permission.User, VirtualHost = permission.VirtualHost };
                    db.Permissions.Add(existing);
                }
                else if (existing.Configure == permission.Configure && existing.Write == permission.Write && existing.Read == permission.Read)
                {
                    return;
                }

                existing.Configure = permission.Configure;
                existing.Write = permission.Write;
                existing.Read = permission.Read;
                changes.Upsert(ChangeEntities.Permission, existing.ToRecord());
            },
            cancellationToken);
    }

    public Task ClearPermissionAsync(string user, string virtualHost, CancellationToken cancellationToken = default) =>
        WriteAsync(
            async (db, changes) =>
            {
                var existing = await db.Permissions.FindAsync([user, virtualHost], cancellationToken);
                if (existing is not null)
                {
                    db.Permissions.Remove(existing);
                    changes.Delete(ChangeEntities.Permission, existing.ToRecord());
                }
            },
            cancellationToken);

    // ---- policies

    public Task PutPolicyAsync(PolicyRecord policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        RequireName(policy.Name, "policy");
        RequireRegex(policy.Pattern, "pattern");
        if (!PolicyTargets.Contains(policy.ApplyTo))
        {
            throw new MetadataException(
                MetadataException.PreconditionFailed,
                $"invalid apply-to '{policy.ApplyTo}' for policy '{policy.Name}': expected one of {string.Join(", ", PolicyTargets)}");
        }

        // The gateway's own keys are checked here so a bad ladder is refused when it is set, not at a nack.
        if (!GradedRedeliveryPolicy.IsValid(policy.Definition, out string? invalid))
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"invalid definition for policy '{policy.Name}': {invalid}");
        }

        var definition = CanonicalJson.Write(AmqpValue.Normalize(policy.Definition));
        return WriteAsync(
            async (db, changes) =>
            {
                await RequireVirtualHostAsync(db, policy.VirtualHost, cancellationToken);
                var existing = await db.Policies.FindAsync([policy.VirtualHost, policy.Name], cancellationToken);
                if (existing is null)
                {
                    existing = new Policy { VirtualHost = policy.VirtualHost, Name = policy.Name };
                    db.Policies.Add(existing);
                }
                else if (existing.Pattern == policy.Pattern && existing.ApplyTo == policy.ApplyTo && existing.Priority == policy.Priority
                    && CanonicalJson.Write(RecordMapping.ReadObject(existing.Definition)) == definition)
                {
                    return;
                }

                existing.Pattern = policy.Pattern;
                existing.ApplyTo = policy.ApplyTo;
                existing.Priority = policy.Priority;
                existing.Definition = definition;
                changes.Upsert(ChangeEntities.Policy, existing.ToRecord());
            },
            cancellationToken);
    }

    public Task DeletePolicyAsync(string virtualHost, string name, CancellationToken cancellationToken = default) =>
        WriteAsync(
            async (db, changes) =>
            {
                var existing = await db.Policies.FindAsync([virtualHost, name], cancellationToken)
                    ?? throw new MetadataException(MetadataException.NotFound, $"no policy '{name}' in vhost '{virtualHost}'");
                db.Policies.Remove(existing);
                changes.Delete(ChangeEntities.Policy, existing.ToRecord());
            },
            cancellationToken);

    // ---- helpers

    private static async Task RequireVirtualHostAsync(MetaDbContext db, string virtualHost, CancellationToken cancellationToken)
    {
        if (!await db.VirtualHosts.AnyAsync(v => v.Name == virtualHost, cancellationToken))
        {
            throw new MetadataException(MetadataException.NotFound, $"no vhost '{virtualHost}'");
        }
    }

    private static void RequireName(string? name, string kind)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"{kind} name must not be empty");
        }
    }

    private static void RequireRegex(string? pattern, string what)
    {
        try
        {
            _ = new Regex(pattern ?? "", RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            throw new MetadataException(MetadataException.PreconditionFailed, $"invalid regular expression '{pattern}' for {what}");
        }
    }
}
