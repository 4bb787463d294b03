using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class ExchangeEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<Exchange>
{
    public void Configure(EntityTypeBuilder<Exchange> builder)
    {
        builder.ToTable("Exchanges");

        // (vhost, name) is the key: two gateways declaring the same exchange at once collide here.
        builder.HasKey(e => new { e.VirtualHost, e.Name });
        builder.Property(e => e.Type).IsRequired();
        builder.Property(e => e.Arguments).AsJson(jsonColumnType);
        builder.HasOne<VirtualHost>().WithMany().HasForeignKey(e => e.VirtualHost).OnDelete(DeleteBehavior.Cascade);
    }
}
