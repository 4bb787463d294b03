using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class PolicyEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<Policy>
{
    public void Configure(EntityTypeBuilder<Policy> builder)
    {
        builder.ToTable("Policies");
        builder.HasKey(p => new { p.VirtualHost, p.Name });
        builder.Property(p => p.Pattern).IsRequired();
        builder.Property(p => p.ApplyTo).IsRequired();
        builder.Property(p => p.Definition).AsJson(jsonColumnType);
        builder.HasOne<VirtualHost>().WithMany().HasForeignKey(p => p.VirtualHost).OnDelete(DeleteBehavior.Cascade);
    }
}
