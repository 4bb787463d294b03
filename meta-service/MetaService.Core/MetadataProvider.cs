namespace MetaService.Core;

/// <summary>Where the metadata lives.</summary>
public enum MetadataProvider
{
    /// <summary>The embedded default: one SQLite file next to the gateway.</summary>
    Sqlite,

    /// <summary>Production: PostgreSQL through Npgsql, shared by several meta-service instances.</summary>
    PostgreSql,
}
