using MetaService.Core;

namespace MetaService.Api.Hosting;

/// <summary>Opens the store the options select: migrated to the current schema and seeded with RabbitMQ's first-boot defaults.</summary>
internal static class MetadataStores
{
    /// <param name="seedDefaults">
    /// False for the definitions commands: like RabbitMQ loading definitions at boot, an import into an empty
    /// database must not first create guest and "/".
    /// </param>
    public static async Task<EfMetadataStore> OpenAsync(
        MetaServiceOptions options, CancellationToken cancellationToken, bool seedDefaults = true)
    {
        var store = options.UsesPostgres
            ? await MetadataStoreFactory.CreateAsync(options.Database!, MetadataProvider.PostgreSql, cancellationToken: cancellationToken)
            : await MetadataStoreFactory.CreateAsync(options.SqlitePath, MetadataProvider.Sqlite, cancellationToken: cancellationToken);
        if (seedDefaults)
        {
            // First boot only: vhost "/", user guest/guest and its permissions (as RabbitMQ); later boots change nothing.
            await store.EnsureDefaultsAsync(cancellationToken);
        }

        return store;
    }
}
