using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class UserEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("Users");
        builder.HasKey(u => u.Name);
        builder.Property(u => u.Name).ValueGeneratedNever();
        builder.Property(u => u.PasswordHash).IsRequired();
        builder.Property(u => u.HashingAlgorithm).IsRequired();
        builder.Property(u => u.Tags).AsJson(jsonColumnType);
    }
}
