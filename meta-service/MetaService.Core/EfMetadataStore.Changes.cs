using System.Diagnostics;
using MetaService.Contracts;
using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core;

// The snapshot and the change feed.
public sealed partial class EfMetadataStore
{
    /// <summary>Everything, read in one transaction; <see cref="MetadataSnapshot.Revision"/> is the last change it includes.</summary>
    public Task<MetadataSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        ReadSnapshotAsync(
            async db =>
            {
                var revision = await db.ChangeLog.MaxAsync(c => (long?)c.Revision, cancellationToken) ?? 0;
                var vhosts = await db.VirtualHosts.OrderBy(v => v.Name).ToListAsync(cancellationToken);
                var users = await db.Users.OrderBy(u => u.Name).ToListAsync(cancellationToken);
                var permissions = await db.Permissions.OrderBy(p => p.VirtualHost).ThenBy(p => p.User).ToListAsync(cancellationToken);
                var exchanges = await db.Exchanges.OrderBy(e => e.VirtualHost).ThenBy(e => e.Name).ToListAsync(cancellationToken);
                var queues = await db.Queues.OrderBy(q => q.VirtualHost).ThenBy(q => q.Name).ToListAsync(cancellationToken);
                var bindings = await db.Bindings.OrderBy(b => b.Id).ToListAsync(cancellationToken);
                var policies = await db.Policies.OrderBy(p => p.VirtualHost).ThenBy(p => p.Name).ToListAsync(cancellationToken);
                return new MetadataSnapshot(
                    revision,
                    vhosts.ConvertAll(v => v.ToRecord()),
                    users.ConvertAll(u => u.ToRecord()),
                    permissions.ConvertAll(p => p.ToRecord()),
                    exchanges.ConvertAll(e => e.ToRecord()),
                    queues.ConvertAll(q => q.ToRecord()),
                    bindings.ConvertAll(b => b.ToRecord()),
                    policies.ConvertAll(p => p.ToRecord()));
            },
            cancellationToken);

    /// <summary>
    /// Changes after <paramref name="afterRevision"/>, at most <see cref="MetadataStoreOptions.MaxChangesPerBatch"/>.
    /// When there are none, waits up to <paramref name="maxWait"/>: a commit by a store in this process wakes
    /// the wait at once, and the change log is polled every <see cref="MetadataStoreOptions.ChangePollInterval"/>
    /// for commits by other processes (other meta-service instances on the same PostgreSQL). The batch's
    /// revision is the last change in it, or <paramref name="afterRevision"/> when none came; it is lower
    /// than <paramref name="afterRevision"/> only when the log ends before it (the database was replaced).
    /// </summary>
    public async Task<ChangeBatch> GetChangesAsync(long afterRevision, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            // Take the wake-up task before looking, so a commit between the look and the wait is not missed.
            var nextChange = _notifier.NextChange;
            var (entries, latest) = await ReadAsync(
                async db =>
                {
                    var found = await db.ChangeLog
                        .Where(c => c.Revision > afterRevision)
                        .OrderBy(c => c.Revision)
                        .Take(_options.MaxChangesPerBatch)
                        .ToListAsync(cancellationToken);
                    var last = found.Count > 0 ? found[^1].Revision : await db.ChangeLog.MaxAsync(c => (long?)c.Revision, cancellationToken) ?? 0;
                    return (found, last);
                },
                cancellationToken);
            if (entries.Count > 0)
            {
                return new ChangeBatch(latest, entries.ConvertAll(ToChange));
            }

            // The log ends before the follower's revision: this is another (replaced or restored) database.
            // Say so at once with the real revision, so the follower reloads a snapshot.
            if (latest < afterRevision)
            {
                return new ChangeBatch(latest, []);
            }

            var remaining = maxWait - waited.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return new ChangeBatch(afterRevision, []);
            }

            var pause = remaining < _options.ChangePollInterval ? remaining : _options.ChangePollInterval;
            try
            {
                await nextChange.WaitAsync(pause, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Poll again: another process may have committed.
            }
        }
    }

    private static MetadataChange ToChange(ChangeLogEntry entry) => new(
        entry.Revision,
        entry.Entity,
        entry.Operation == "delete" ? ChangeOperation.Delete : ChangeOperation.Upsert,
        RecordMapping.ReadObject(entry.Value));
}
