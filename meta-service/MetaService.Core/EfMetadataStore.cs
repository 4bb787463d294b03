using System.Data;
using MetaService.Contracts;
using MetaService.Core.Infrastructure;
using MetaService.Core.Model;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace MetaService.Core;

/// <summary>
/// <see cref="IMetadataStore"/> over EF Core, on SQLite (embedded) or PostgreSQL (shared by several
/// meta-service instances), with RabbitMQ's semantics for declares, binds and deletes.
/// </summary>
/// <remarks>
/// <para>Every operation uses its own short-lived <see cref="MetaDbContext"/>, so one store serves many
/// threads. Every mutation runs in one transaction that also appends its <see cref="ChangeLogEntry"/>
/// rows, so a follower of the change feed sees a change exactly when it is committed.</para>
/// <para>Writers are serial: SQLite has a single writer (transactions begin IMMEDIATE) and on PostgreSQL
/// each write transaction takes one transaction-scoped advisory lock. Revisions are therefore assigned
/// (highest plus one) and committed in order: a reader never sees revision N+1 without N, and there are
/// no gaps. Declares that find nothing to change (the common redeclare) take no lock at all.</para>
/// <para>Races between processes are settled by the database: the (vhost, name) keys make the second of
/// two concurrent creations fail; the loser retries, re-reads the winner's row and runs RabbitMQ's
/// equivalence check (406 when it differs). Serialization failures and deadlocks on PostgreSQL and
/// busy/locked errors on SQLite are retried the same way.</para>
/// </remarks>
public sealed partial class EfMetadataStore : IMetadataStore
{
    // pg_advisory_xact_lock key of the writers' lock: "meta" in ASCII.
    private const long WriterLockKey = 0x6D657461;
    private const int MaxAttempts = 12;

    private readonly MetaDbContextFactory _contexts;
    private readonly MetadataStoreOptions _options;
    private readonly ChangeNotifier _notifier;
    private long _conflictRetries;

    public EfMetadataStore(MetaDbContextFactory contexts, MetadataStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        _contexts = contexts;
        _options = options ?? new MetadataStoreOptions();
        _notifier = ChangeNotifier.For(contexts.Provider + "|" + contexts.ConnectionString);
    }

    public MetadataProvider Provider => _contexts.Provider;

    /// <summary>How many write transactions lost a race on a unique key and were run again (for tests and metrics).</summary>
    public long ConflictRetries => Interlocked.Read(ref _conflictRetries);

    private enum WriterLock
    {
        /// <summary>Before the body reads anything: the transaction sees and changes the latest state alone.</summary>
        BeforeReads,

        /// <summary>Only to append to the change log (optimistic declares on PostgreSQL).</summary>
        BeforeChangeLog,
    }

    private async Task<T> ReadAsync<T>(Func<MetaDbContext, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = _contexts.CreateDbContext();
                db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
                return await read(db);
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsTransient(ex))
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
            }
        }
    }

    private Task WriteAsync(Func<MetaDbContext, ChangeSet, Task> write, CancellationToken cancellationToken) =>
        WriteAsync<bool>(
            async (db, changes) =>
            {
                await write(db, changes);
                return true;
            },
            cancellationToken);

    private async Task<T> WriteAsync<T>(
        Func<MetaDbContext, ChangeSet, Task<T>> write,
        CancellationToken cancellationToken,
        WriterLock writerLock = WriterLock.BeforeReads)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = _contexts.CreateDbContext();
                var changes = new ChangeSet();

                // SQLite: BEGIN IMMEDIATE takes the database's single write lock now (busy waits are retried by the driver).
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                var locked = false;
                if (writerLock == WriterLock.BeforeReads)
                {
                    await LockWritersAsync(db, cancellationToken);
                    locked = true;
                }

                var result = await write(db, changes);
                await db.SaveChangesAsync(cancellationToken);
                if (changes.Count > 0)
                {
                    if (!locked)
                    {
                        await LockWritersAsync(db, cancellationToken);
                    }

                    await AppendChangesAsync(db, changes, cancellationToken);
                    await db.SaveChangesAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                if (changes.Count > 0)
                {
                    _notifier.Notify();
                }

                return result;
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsTransient(ex))
            {
                if (IsUniqueViolation(ex))
                {
                    Interlocked.Increment(ref _conflictRetries);
                }

                await Task.Delay(Backoff(attempt), cancellationToken);
            }
        }
    }

    private static async Task LockWritersAsync(MetaDbContext db, CancellationToken cancellationToken)
    {
        if (db.Provider == MetadataProvider.PostgreSql)
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({WriterLockKey})", cancellationToken);
        }
    }

    private static async Task AppendChangesAsync(MetaDbContext db, ChangeSet changes, CancellationToken cancellationToken)
    {
        var revision = await db.ChangeLog.MaxAsync(c => (long?)c.Revision, cancellationToken) ?? 0;
        var committedAt = DateTimeOffset.UtcNow;
        foreach (var (entity, operation, value) in changes.Items)
        {
            db.ChangeLog.Add(new ChangeLogEntry
            {
                Revision = ++revision,
                Entity = entity,
                Operation = operation == ChangeOperation.Delete ? "delete" : "upsert",
                Value = value.ToJsonString(),
                CommittedAt = committedAt,
            });
        }
    }

    /// <summary>A consistent read of several tables: one transaction, one snapshot.</summary>
    private async Task<T> ReadSnapshotAsync<T>(Func<MetaDbContext, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = _contexts.CreateDbContext();
                db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
                if (db.Provider == MetadataProvider.PostgreSql)
                {
                    await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
                    var result = await read(db);
                    await transaction.CommitAsync(cancellationToken);
                    return result;
                }

                // SQLite: a deferred transaction reads one snapshot (WAL) without taking the write lock.
                await db.Database.OpenConnectionAsync(cancellationToken);
                var connection = (SqliteConnection)db.Database.GetDbConnection();
                await using (var sqliteTransaction = connection.BeginTransaction(deferred: true))
                {
                    await db.Database.UseTransactionAsync(sqliteTransaction, cancellationToken);
                    var result = await read(db);
                    await sqliteTransaction.CommitAsync(cancellationToken);
                    return result;
                }
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsTransient(ex))
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
            }
        }
    }

    /// <summary>Errors after which the whole operation is run again on a fresh context.</summary>
    private static bool IsTransient(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                // unique violation (a concurrent creation won), serialization failure, deadlock
                case PostgresException pg when pg.SqlState is PostgresErrorCodes.UniqueViolation
                    or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected:
                    return true;
                case NpgsqlException { IsTransient: true }:
                    return true;

                // SQLITE_BUSY, SQLITE_LOCKED, and SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE
                case SqliteException sqlite when sqlite.SqliteErrorCode is 5 or 6
                    || sqlite.SqliteExtendedErrorCode is 1555 or 2067:
                    return true;
            }
        }

        return false;
    }

    private static bool IsUniqueViolation(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } or SqliteException { SqliteExtendedErrorCode: 1555 or 2067 })
            {
                return true;
            }
        }

        return false;
    }

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + (10 * Math.Min(attempt, 8))));
}
