using MetaService.Core.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal sealed class ChangeLogEntryEntityTypeConfiguration(string? jsonColumnType) : IEntityTypeConfiguration<ChangeLogEntry>
{
    public void Configure(EntityTypeBuilder<ChangeLogEntry> builder)
    {
        builder.ToTable("ChangeLog");
        builder.HasKey(c => c.Revision);

        // Assigned by the store under the writers' lock (see ChangeLogEntry), never by a sequence.
        builder.Property(c => c.Revision).ValueGeneratedNever();
        builder.Property(c => c.Entity).IsRequired();
        builder.Property(c => c.Operation).IsRequired();
        builder.Property(c => c.Value).AsJson(jsonColumnType);
    }
}
