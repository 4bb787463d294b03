using MetaService.Contracts;

namespace MetaService.Definitions.Tests.Support;

/// <summary>What the tests add to the fixture's topology in a store.</summary>
internal static class ExtraTopology
{
    /// <summary>
    /// The internal exchange "orders.archive" with a binding on each side: the fixture's RabbitMQ had it
    /// too, but RabbitMQ's export leaves internal exchanges out. The exporter keeps them.
    /// </summary>
    public static async Task AddInternalArchiveAsync(IMetadataStore store)
    {
        await store.DeclareExchangeAsync(
            new ExchangeRecord("orders", "orders.archive", "topic", Durable: true, AutoDelete: false, Internal: true, []), passive: false);
        await store.BindAsync(new BindingRecord("orders", "orders.audit", "orders.archive", BindingDestinationType.Exchange, "", []));
        await store.BindAsync(new BindingRecord("orders", "orders.archive", "orders.archive-log", BindingDestinationType.Queue, "order.#", []));
    }
}
