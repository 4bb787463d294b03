using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class QueueEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<Queue>
{
    public void Configure(EntityTypeBuilder<Queue> builder)
    {
        builder.ToTable("Queues");

        // (vhost, name) is the key: of two gateways declaring the same queue at once, one insert fails.
        builder.HasKey(q => new { q.VirtualHost, q.Name });
        builder.Property(q => q.Arguments).AsJson(jsonColumnType);
        builder.Property(q => q.Topic).IsRequired();
        builder.HasIndex(q => q.Topic).IsUnique();
        builder.HasOne<VirtualHost>().WithMany().HasForeignKey(q => q.VirtualHost).OnDelete(DeleteBehavior.Cascade);
    }
}
