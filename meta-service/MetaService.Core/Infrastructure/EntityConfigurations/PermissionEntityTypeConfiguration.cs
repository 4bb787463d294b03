using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class PermissionEntityTypeConfiguration : IEntityTypeConfiguration<Permission>
{
    public void Configure(EntityTypeBuilder<Permission> builder)
    {
        builder.ToTable("Permissions");
        builder.HasKey(p => new { p.User, p.VirtualHost });
        builder.HasIndex(p => p.VirtualHost);
        builder.Property(p => p.Configure).IsRequired();
        builder.Property(p => p.Write).IsRequired();
        builder.Property(p => p.Read).IsRequired();

        // The store deletes (and logs) dependants itself; the cascades are a backstop for the database.
        builder.HasOne<User>().WithMany().HasForeignKey(p => p.User).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<VirtualHost>().WithMany().HasForeignKey(p => p.VirtualHost).OnDelete(DeleteBehavior.Cascade);
    }
}
