namespace MetaService.Core;

/// <summary>Tuning and RabbitMQ-compatibility switches of <see cref="EfMetadataStore"/>.</summary>
public sealed class MetadataStoreOptions
{
    /// <summary>
    /// The exchange types exchange.declare accepts; any other gets 503 "unknown exchange type 'x'" as
    /// RabbitMQ without the matching plugin answers. "x-delayed-message" is the delayed message plugin's type, which
    /// the gateway emulates (docs/queue-features.md, "Delayed messages"); its x-delayed-type must be one of the others.
    /// </summary>
    public IReadOnlySet<string> ExchangeTypes { get; init; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "direct", "fanout", "topic", "headers", DelayedMessageType,
    };

    /// <summary>The exchange type of the rabbitmq-delayed-message-exchange plugin.</summary>
    public const string DelayedMessageType = "x-delayed-message";

    /// <summary>How often a waiting change-feed poll looks for changes committed by other processes.</summary>
    public TimeSpan ChangePollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The most changes one <see cref="EfMetadataStore.GetChangesAsync"/> returns.</summary>
    public int MaxChangesPerBatch { get; init; } = 1000;

    /// <summary>
    /// PostgreSQL only. False (the default): every write transaction takes the writers' advisory lock
    /// before it reads, so writes are serial and every check sees the latest committed state. True:
    /// exchange and queue declares read and insert without the lock and take it only to append to the
    /// change log; two gateways declaring one name at once are then settled by the primary key (the
    /// loser's insert fails with a unique violation, it retries, re-reads and runs the equivalence check).
    /// The tests race declares in both modes; SQLite always has a single writer.
    /// </summary>
    public bool OptimisticDeclares { get; init; }
}
