using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class VirtualHostEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<VirtualHost>
{
    public void Configure(EntityTypeBuilder<VirtualHost> builder)
    {
        builder.ToTable("VirtualHosts");
        builder.HasKey(v => v.Name);
        builder.Property(v => v.Name).ValueGeneratedNever();
        builder.Property(v => v.Tags).AsJson(jsonColumnType);
    }
}
