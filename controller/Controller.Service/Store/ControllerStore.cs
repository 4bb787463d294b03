using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Controller.Service.Store;

/// <summary>What one look at the lease row showed, with the database's clock at that moment.</summary>
public sealed record LeaseObservation(string? HolderId, string? HolderUrl, long Epoch, DateTimeOffset ExpiresAt, DateTimeOffset DatabaseNow)
{
    public bool IsHeldBy(string instanceId) => HolderId == instanceId && ExpiresAt > DatabaseNow;

    /// <summary>The holder, while its lease runs; null once it has expired.</summary>
    public string? LiveHolderId => ExpiresAt > DatabaseNow ? HolderId : null;
}

/// <summary>The leader term an admin write claims to belong to; the store refuses the write when the term is over.</summary>
public sealed record LeaderTerm(string InstanceId, long Epoch);

/// <summary>A write was refused because the term it belongs to is over: another instance leads, or the lease expired.</summary>
public sealed class NotLeaderException(string message) : Exception(message);

/// <summary>
/// The controller's reads and writes of its tables. Each operation uses its own short-lived context. Time
/// comparisons for the lease use the database's clock on PostgreSQL (<c>now()</c>), so two controller hosts with
/// skewed clocks cannot both believe they hold it; SQLite (one host, development) uses the local clock.
/// </summary>
public sealed class ControllerStore(ControllerDbContextFactory contexts, TimeProvider time)
{
    private const string LockLeaseRowSql = "SELECT * FROM controller_leader_lease WHERE id = 1 FOR UPDATE";
    private const string ShareLeaseRowSql = "SELECT * FROM controller_leader_lease WHERE id = 1 FOR SHARE";

    public bool IsPostgres => contexts.IsPostgres;

    /// <summary>Applies pending migrations (own history table); on SQLite creates the file's directory and switches it to WAL.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        if (!contexts.IsPostgres)
        {
            var file = new SqliteConnectionStringBuilder(contexts.ConnectionString).DataSource;
            if (file is { Length: > 0 } && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { Length: > 0 } directory)
            {
                Directory.CreateDirectory(directory);
            }
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (!contexts.IsPostgres)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    public async Task<(List<PauseRuleRow> Pauses, List<ConsumeLimitRow> ConsumeLimits, List<PublishLimitRow> PublishLimits)> LoadRulesAsync(
        CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        var pauses = await db.PauseRules.AsNoTracking().ToListAsync(cancellationToken);
        var consume = await db.ConsumeLimits.AsNoTracking().ToListAsync(cancellationToken);
        var publish = await db.PublishLimits.AsNoTracking().ToListAsync(cancellationToken);
        return (pauses, consume, publish);
    }

    public async Task<List<NodeRow>> LoadNodesAsync(CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        return await db.Nodes.AsNoTracking().ToListAsync(cancellationToken);
    }

    /// <summary>Inserts or updates a node's row (a heartbeat). Not fenced: a late heartbeat written by a former leader is harmless.</summary>
    public async Task SaveNodeAsync(NodeRow node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        await using var db = contexts.CreateDbContext();
        var existing = await db.Nodes.FindAsync([node.NodeId], cancellationToken);
        if (existing is null)
        {
            db.Nodes.Add(node);
        }
        else
        {
            db.Entry(existing).CurrentValues.SetValues(node);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (existing is null)
        {
            // Another write inserted the row first (a retried heartbeat): update it instead.
            await using var retry = contexts.CreateDbContext();
            retry.Nodes.Update(node);
            await retry.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> in one transaction that first checks, under a lock on the lease row, that
    /// <paramref name="term"/> still holds the lease: a leader that lost its lease (frozen, partitioned) cannot
    /// overwrite what its successor already loaded. Throws <see cref="NotLeaderException"/> otherwise.
    /// </summary>
    public async Task WriteAsLeaderAsync(LeaderTerm term, Func<ControllerDbContext, CancellationToken, Task> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(term);
        ArgumentNullException.ThrowIfNull(change);
        await using var db = contexts.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var lease = await ReadLeaseAsync(db, ShareLeaseRowSql, cancellationToken);
        if (!lease.IsHeldBy(term.InstanceId) || lease.Epoch != term.Epoch)
        {
            throw new NotLeaderException($"the lease of epoch {term.Epoch} is no longer held by {term.InstanceId}");
        }

        await change(db, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// One election step: takes the lease when it has expired (or has never been held), renews it when
    /// <paramref name="instanceId"/> holds it, else leaves it alone. The epoch goes up whenever the holder changes.
    /// Returns the lease as it is afterwards.
    /// </summary>
    public async Task<LeaseObservation> TryAcquireLeaseAsync(string instanceId, string url, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await LockLeaseRowAsync(db, LockLeaseRowSql, cancellationToken);
        var now = await DatabaseNowAsync(db, cancellationToken);
        bool mine = row.HolderId == instanceId;
        if (mine || row.ExpiresAt <= now)
        {
            if (!mine)
            {
                row.Epoch++;
                row.HolderId = instanceId;
            }

            row.HolderUrl = url;
            row.ExpiresAt = now + duration;
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new LeaseObservation(row.HolderId, row.HolderUrl, row.Epoch, row.ExpiresAt, now);
    }

    /// <summary>Ends <paramref name="instanceId"/>'s lease now (a clean shutdown), so a standby need not wait for it to expire.</summary>
    public async Task ReleaseLeaseAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await LockLeaseRowAsync(db, LockLeaseRowSql, cancellationToken);
        var now = await DatabaseNowAsync(db, cancellationToken);
        if (row.HolderId == instanceId && row.ExpiresAt > now)
        {
            row.ExpiresAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<LeaseObservation> ReadLeaseAsync(CancellationToken cancellationToken)
    {
        await using var db = contexts.CreateDbContext();
        return await ReadLeaseAsync(db, null, cancellationToken);
    }

    private async Task<LeaseObservation> ReadLeaseAsync(ControllerDbContext db, string? lockSql, CancellationToken cancellationToken)
    {
        var row = lockSql is null
            ? await db.LeaderLease.AsNoTracking().SingleAsync(l => l.Id == LeaderLeaseRow.SingletonId, cancellationToken)
            : await LockLeaseRowAsync(db, lockSql, cancellationToken);
        var now = await DatabaseNowAsync(db, cancellationToken);
        return new LeaseObservation(row.HolderId, row.HolderUrl, row.Epoch, row.ExpiresAt, now);
    }

    /// <summary>
    /// The lease row, tracked, locked for the transaction on PostgreSQL. SQLite needs no row lock: EF's SQLite
    /// transactions begin IMMEDIATE, which already excludes every other writer of the file.
    /// </summary>
    private static async Task<LeaderLeaseRow> LockLeaseRowAsync(ControllerDbContext db, string lockSql, CancellationToken cancellationToken)
    {
        if (!db.IsPostgres)
        {
            return await db.LeaderLease.SingleAsync(l => l.Id == LeaderLeaseRow.SingletonId, cancellationToken);
        }

        // Not composed (no LINQ on top), so the SQL runs as written, FOR UPDATE / FOR SHARE included.
        var rows = await db.LeaderLease.FromSqlRaw(lockSql).ToListAsync(cancellationToken);
        return rows.Count == 1 ? rows[0] : throw new InvalidOperationException("the controller_leader_lease row is missing");
    }

    private async Task<DateTimeOffset> DatabaseNowAsync(ControllerDbContext db, CancellationToken cancellationToken)
    {
        if (!db.IsPostgres)
        {
            return time.GetUtcNow();
        }

        var now = await db.Database.SqlQueryRaw<DateTimeOffset>("SELECT now() AS \"Value\"").ToListAsync(cancellationToken);
        return now[0];
    }
}
