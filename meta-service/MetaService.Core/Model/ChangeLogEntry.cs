namespace MetaService.Core.Model;

/// <summary>
/// One committed change of the metadata, written in the same transaction as the change itself.
/// <see cref="Revision"/> is assigned by the store under the writers' lock (the highest revision plus
/// one), not by a database sequence: a sequence would leave a gap for every rolled-back transaction,
/// and followers are promised revisions without gaps, in commit order.
/// </summary>
public sealed class ChangeLogEntry
{
    public long Revision { get; set; }

    /// <summary>vhost, user, permission, exchange, queue, binding or policy.</summary>
    public string Entity { get; set; } = "";

    /// <summary>upsert or delete.</summary>
    public string Operation { get; set; } = "";

    /// <summary>The record as JSON after an upsert, or the deleted record.</summary>
    public string Value { get; set; } = "{}";

    public DateTimeOffset CommittedAt { get; set; }
}
