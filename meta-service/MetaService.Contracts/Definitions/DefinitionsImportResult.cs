namespace MetaService.Contracts.Definitions;

/// <summary>What an import did with the entries of one section.</summary>
/// <param name="Created">Entries the store did not have.</param>
/// <param name="Updated">Entries the store had with other values, now overwritten (vhost metadata, users, permissions, policies).</param>
/// <param name="Unchanged">Entries the store already had as the document says: nothing was written.</param>
/// <param name="Skipped">Entries left out: built-in exchanges, bindings from the default exchange, and
/// entries naming a vhost, user, exchange or queue that does not exist (each one with a warning).</param>
public sealed record ImportCounts(int Created, int Updated, int Unchanged, int Skipped)
{
    public static ImportCounts None { get; } = new(0, 0, 0, 0);

    /// <summary>Entries the store has as the document says after the import.</summary>
    public int Applied => Created + Updated + Unchanged;

    /// <summary>Entries the import wrote to the store.</summary>
    public int Written => Created + Updated;
}

/// <summary>
/// The outcome of <see cref="DefinitionsImporter.ImportAsync"/>: counts per section and the warnings
/// for everything that was not imported. Importing the same document again gives zero
/// <see cref="ImportCounts.Written"/> in every section.
/// </summary>
public sealed record DefinitionsImportResult(
    ImportCounts VirtualHosts,
    ImportCounts Users,
    ImportCounts Permissions,
    ImportCounts Exchanges,
    ImportCounts Queues,
    ImportCounts Bindings,
    ImportCounts Policies,
    int TopicPermissionsNotImported,
    int ParametersNotImported,
    int GlobalParametersNotImported,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Entries written to the store over all sections (0 when the store already matched the document).</summary>
    public int Written =>
        VirtualHosts.Written + Users.Written + Permissions.Written + Exchanges.Written + Queues.Written
        + Bindings.Written + Policies.Written;
}
