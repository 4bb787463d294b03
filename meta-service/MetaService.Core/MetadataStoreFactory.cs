using MetaService.Core.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core;

/// <summary>Opens a metadata database, brings its schema up to date and returns a store over it.</summary>
public static class MetadataStoreFactory
{
    /// <summary>
    /// Applies any pending migrations (safe when several instances start at once: EF Core takes a
    /// migration lock) and returns an <see cref="EfMetadataStore"/>. Does not seed anything: call
    /// <see cref="EfMetadataStore.EnsureDefaultsAsync"/> for RabbitMQ's first-boot vhost and user.
    /// </summary>
    /// <param name="connectionStringOrPath">
    /// An Npgsql connection string for PostgreSQL; for SQLite a connection string or the path of the database file.
    /// </param>
    public static async Task<EfMetadataStore> CreateAsync(
        string connectionStringOrPath,
        MetadataProvider provider,
        MetadataStoreOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var contexts = new MetaDbContextFactory(provider, connectionStringOrPath);
        await MigrateAsync(contexts, cancellationToken);
        return new EfMetadataStore(contexts, options);
    }

    /// <summary>Applies pending migrations; on SQLite also switches the file to WAL so readers never wait for the writer.</summary>
    public static async Task MigrateAsync(MetaDbContextFactory contexts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        await using var db = contexts.CreateDbContext();
        if (contexts.Provider == MetadataProvider.Sqlite)
        {
            // Create the file's directory; SQLite creates only the file.
            var builder = new SqliteConnectionStringBuilder(contexts.ConnectionString);
            if (builder.Mode != SqliteOpenMode.Memory && builder.DataSource is { Length: > 0 } file && file != ":memory:")
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(file));
                if (!string.IsNullOrEmpty(directory))
                {
                    Directory.CreateDirectory(directory);
                }
            }
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (contexts.Provider == MetadataProvider.Sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }
}
