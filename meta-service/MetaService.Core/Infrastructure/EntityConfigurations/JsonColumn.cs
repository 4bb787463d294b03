using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MetaService.Core.Infrastructure.EntityConfigurations;

internal static class JsonColumn
{
    /// <summary>Maps a JSON-text property to jsonb on PostgreSQL, or leaves the provider's text type.</summary>
    public static PropertyBuilder<string> AsJson(this PropertyBuilder<string> property, string? jsonColumnType)
    {
        property.IsRequired();
        return jsonColumnType is null ? property : property.HasColumnType(jsonColumnType);
    }
}
