using Microsoft.EntityFrameworkCore;

namespace Controller.Service.Store;

/// <summary>
/// The controller's tables in the metadata database. They are prefixed <c>controller_</c> and their migrations
/// are recorded in their own history table (<see cref="MigrationsHistoryTable"/>), so the controller and the
/// meta-service migrate one shared PostgreSQL database independently.
/// </summary>
/// <remarks>
/// One model, two providers, each with its own migrations folder (the generated SQL differs):
/// <see cref="PostgresControllerDbContext"/> → Store/Migrations/Postgres, <see cref="SqliteControllerDbContext"/> →
/// Store/Migrations/Sqlite. After a model change, from the repository root:
/// <code>
///   dotnet ef migrations add &lt;Name&gt; --project controller/Controller.Service \
///       --context PostgresControllerDbContext --output-dir Store/Migrations/Postgres
///   dotnet ef migrations add &lt;Name&gt; --project controller/Controller.Service \
///       --context SqliteControllerDbContext --output-dir Store/Migrations/Sqlite
/// </code>
/// </remarks>
public abstract class ControllerDbContext : DbContext
{
    public const string MigrationsHistoryTable = "__controller_migrations";

    protected ControllerDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<PauseRuleRow> PauseRules => Set<PauseRuleRow>();

    public DbSet<ConsumeLimitRow> ConsumeLimits => Set<ConsumeLimitRow>();

    public DbSet<PublishLimitRow> PublishLimits => Set<PublishLimitRow>();

    public DbSet<NodeRow> Nodes => Set<NodeRow>();

    public DbSet<LeaderLeaseRow> LeaderLease => Set<LeaderLeaseRow>();

    public abstract bool IsPostgres { get; }

    /// <summary>jsonb on PostgreSQL; the provider's text type elsewhere (null).</summary>
    protected abstract string? JsonColumnType { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<PauseRuleRow>(pause =>
        {
            pause.ToTable("controller_pause_rules");
            pause.HasKey(p => p.Id);
            pause.Property(p => p.Id).HasColumnName("id");
            pause.Property(p => p.VHost).HasColumnName("vhost");
            pause.Property(p => p.Queue).HasColumnName("queue");
            pause.Property(p => p.ClientAddress).HasColumnName("client_address");
            pause.Property(p => p.ConnectionName).HasColumnName("connection_name");
            pause.Property(p => p.CreatedAt).HasColumnName("created_at");
            pause.HasIndex(p => new { p.VHost, p.Queue }).HasDatabaseName("ix_controller_pause_rules_vhost_queue");
        });
        modelBuilder.Entity<ConsumeLimitRow>(limit =>
        {
            limit.ToTable("controller_consume_limits");
            limit.HasKey(l => new { l.VHost, l.Queue });
            limit.Property(l => l.VHost).HasColumnName("vhost");
            limit.Property(l => l.Queue).HasColumnName("queue");
            limit.Property(l => l.MessagesPerSecond).HasColumnName("messages_per_second");
            limit.Property(l => l.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<PublishLimitRow>(limit =>
        {
            limit.ToTable("controller_publish_limits");
            limit.HasKey(l => new { l.VHost, l.Scope, l.Exchange });
            limit.Property(l => l.VHost).HasColumnName("vhost");
            limit.Property(l => l.Scope).HasColumnName("scope");
            limit.Property(l => l.Exchange).HasColumnName("exchange");
            limit.Property(l => l.MessagesPerSecond).HasColumnName("messages_per_second");
            limit.Property(l => l.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<NodeRow>(node =>
        {
            node.ToTable("controller_nodes");
            node.HasKey(n => n.NodeId);
            node.Property(n => n.NodeId).HasColumnName("node_id");
            node.Property(n => n.AmqpEndpoint).HasColumnName("amqp_endpoint");
            node.Property(n => n.MetricsUrl).HasColumnName("metrics_url");
            node.Property(n => n.StartedAt).HasColumnName("started_at");
            node.Property(n => n.LastSeen).HasColumnName("last_seen");
            var report = node.Property(n => n.LastReport).HasColumnName("last_report");
            if (JsonColumnType is { } json)
            {
                report.HasColumnType(json);
            }
        });
        modelBuilder.Entity<LeaderLeaseRow>(lease =>
        {
            lease.ToTable("controller_leader_lease");
            lease.HasKey(l => l.Id);
            lease.Property(l => l.Id).HasColumnName("id").ValueGeneratedNever();
            lease.Property(l => l.HolderId).HasColumnName("holder_id");
            lease.Property(l => l.HolderUrl).HasColumnName("holder_url");
            lease.Property(l => l.Epoch).HasColumnName("epoch");
            lease.Property(l => l.ExpiresAt).HasColumnName("expires_at");
            lease.HasData(new LeaderLeaseRow { Id = LeaderLeaseRow.SingletonId, Epoch = 0, ExpiresAt = DateTimeOffset.UnixEpoch });
        });
    }
}

/// <summary>The controller's tables on PostgreSQL (Npgsql): the report column is jsonb.</summary>
public sealed class PostgresControllerDbContext(DbContextOptions<PostgresControllerDbContext> options) : ControllerDbContext(options)
{
    public override bool IsPostgres => true;

    protected override string? JsonColumnType => "jsonb";
}

/// <summary>The controller's tables on SQLite (development and the embedded single-node setup).</summary>
public sealed class SqliteControllerDbContext(DbContextOptions<SqliteControllerDbContext> options) : ControllerDbContext(options)
{
    public override bool IsPostgres => false;

    protected override string? JsonColumnType => null;
}
