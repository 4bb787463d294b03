namespace MetaService.Contracts;

/// <summary>
/// The <see cref="MetadataChange.Entity"/> names the store writes. The value of an
/// upsert is the record (camelCase JSON of the Contracts record); the value of a delete is the deleted
/// record too (its key fields and, for a queue, the topic it used).
/// </summary>
public static class ChangeEntities
{
    public const string VirtualHost = "vhost";
    public const string User = "user";
    public const string Permission = "permission";
    public const string Exchange = "exchange";
    public const string Queue = "queue";
    public const string Binding = "binding";
    public const string Policy = "policy";
}
