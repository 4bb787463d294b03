namespace CompatSuite.MassTransit.Scenarios;

// Message contracts. MassTransit names the publish exchange after the type ("namespace:Name"), so each
// scenario has its own type and no scenario sees another's messages. RunId keeps runs against a reused broker
// apart as well.

public sealed record PriceChanged(Guid RunId, int Sequence, string Sku, decimal Price);

public sealed record CheckStock(Guid RunId, string Sku);

public sealed record StockLevel(Guid RunId, string Sku, int Quantity);

public sealed record ReserveSeat(Guid RunId, string Seat);

public sealed record ShipmentDispatched(Guid RunId, int Sequence);

public sealed record SettleInvoice(Guid RunId, string Invoice);
