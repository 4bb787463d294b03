using MetaService.Core.Infrastructure.EntityConfigurations;
using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;

namespace MetaService.Core.Infrastructure;

/// <summary>
/// The metadata database: RabbitMQ's model (vhosts, users, permissions, exchanges, queues, bindings,
/// policies), the queue → log topic mapping and the change log that gateways follow.
/// </summary>
/// <remarks>
/// One model, two providers. Each provider has its own subclass and its own migrations folder, because
/// the generated SQL (jsonb versus TEXT, identity columns, locking) differs:
/// <see cref="PostgresMetaDbContext"/> → Infrastructure/Migrations/Postgres and
/// <see cref="SqliteMetaDbContext"/> → Infrastructure/Migrations/Sqlite.
/// After a model change, add a migration for both, from the repository root:
/// <code>
///   dotnet ef migrations add &lt;Name&gt; --project meta-service/MetaService.Core \
///       --context PostgresMetaDbContext --output-dir Infrastructure/Migrations/Postgres
///   dotnet ef migrations add &lt;Name&gt; --project meta-service/MetaService.Core \
///       --context SqliteMetaDbContext --output-dir Infrastructure/Migrations/Sqlite
/// </code>
/// The design-time factories (<see cref="PostgresMetaDbContextDesignTimeFactory"/>,
/// <see cref="SqliteMetaDbContextDesignTimeFactory"/>) let the tool build a context without a database.
/// Migrations are applied at startup by <see cref="MetadataStoreFactory.CreateAsync"/>.
/// </remarks>
public abstract class MetaDbContext : DbContext
{
    protected MetaDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<VirtualHost> VirtualHosts => Set<VirtualHost>();

    public DbSet<User> Users => Set<User>();

    public DbSet<Permission> Permissions => Set<Permission>();

    public DbSet<Exchange> Exchanges => Set<Exchange>();

    public DbSet<Queue> Queues => Set<Queue>();

    public DbSet<Binding> Bindings => Set<Binding>();

    public DbSet<Policy> Policies => Set<Policy>();

    public DbSet<ChangeLogEntry> ChangeLog => Set<ChangeLogEntry>();

    /// <summary>The provider this context talks to.</summary>
    public abstract MetadataProvider Provider { get; }

    /// <summary>The store type of JSON columns: jsonb on PostgreSQL, the provider's text type elsewhere (null).</summary>
    protected abstract string? JsonColumnType { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        var json = JsonColumnType;
        modelBuilder.ApplyConfiguration(new VirtualHostEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new UserEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new PermissionEntityTypeConfiguration());
        modelBuilder.ApplyConfiguration(new ExchangeEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new QueueEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new BindingEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new PolicyEntityTypeConfiguration(json));
        modelBuilder.ApplyConfiguration(new ChangeLogEntryEntityTypeConfiguration(json));
    }
}
