using TestSupport;

namespace MetaService.Tests.Support;

/// <summary>One PostgreSQL server for every PostgreSQL test class; each class gets its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
