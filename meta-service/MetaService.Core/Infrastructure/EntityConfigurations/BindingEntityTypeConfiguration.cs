using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class BindingEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<Binding>
{
    public void Configure(EntityTypeBuilder<Binding> builder)
    {
        builder.ToTable("Bindings");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Id).ValueGeneratedOnAdd();
        builder.Property(b => b.Source).IsRequired();
        builder.Property(b => b.Destination).IsRequired();
        builder.Property(b => b.DestinationType).IsRequired();
        builder.Property(b => b.RoutingKey).IsRequired();
        builder.Property(b => b.Arguments).AsJson(jsonColumnType);
        builder.Property(b => b.ArgumentsHash).IsRequired();

        // RabbitMQ's binding identity: the same source, destination, key and arguments are one binding.
        builder.HasIndex(b => new { b.VirtualHost, b.Source, b.Destination, b.DestinationType, b.RoutingKey, b.ArgumentsHash })
            .IsUnique()
            .HasDatabaseName("IX_Bindings_Identity");

        // Deleting a queue or exchange looks up its bindings by destination.
        builder.HasIndex(b => new { b.VirtualHost, b.Destination, b.DestinationType }).HasDatabaseName("IX_Bindings_Destination");
        builder.HasOne<VirtualHost>().WithMany().HasForeignKey(b => b.VirtualHost).OnDelete(DeleteBehavior.Cascade);
    }
}
