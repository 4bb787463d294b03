#:package RabbitMQ.Client
// Declares the exchanges, queues and bindings of the definitions fixture over AMQP (rabbitmqctl cannot
// declare them without the management plugin). Run by populate-rabbitmq.sh; not part of Gateway.sln.
// Usage: dotnet run declare-topology.cs -- <amqp-port> <user> <password>
using RabbitMQ.Client;

int port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5691;
string user = args.Length > 1 ? args[1] : "admin-ops";
string password = args.Length > 2 ? args[2] : "";

await DeclareOrdersAsync();
await DeclareBillingAsync();
Console.WriteLine("topology declared");

async Task<(IConnection Connection, IChannel Channel)> OpenAsync(string vhost)
{
    var factory = new ConnectionFactory
    {
        HostName = "127.0.0.1",
        Port = port,
        UserName = user,
        Password = password,
        VirtualHost = vhost,
        ClientProvidedName = "definitions-fixture",
    };
    var connection = await factory.CreateConnectionAsync();
    var channel = await connection.CreateChannelAsync();
    return (connection, channel);
}

async Task DeclareOrdersAsync()
{
    var (connection, ch) = await OpenAsync("orders");
    await using var _ = connection;
    await using var __ = ch;

    // Exchanges: a topic exchange with an alternate exchange, a headers exchange, an internal fanout
    // fed by an exchange-to-exchange binding, a dead-letter exchange and the unrouted catch-all.
    await ch.ExchangeDeclareAsync("orders.unrouted", ExchangeType.Fanout, durable: true, autoDelete: false);
    await ch.ExchangeDeclareAsync("orders.events", ExchangeType.Topic, durable: true, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["alternate-exchange"] = "orders.unrouted" });
    await ch.ExchangeDeclareAsync("orders.by-header", ExchangeType.Headers, durable: true, autoDelete: false);
    await ch.ExchangeDeclareAsync("orders.dlx", ExchangeType.Direct, durable: true, autoDelete: false);
    await ch.ExchangeDeclareAsync("orders.audit", ExchangeType.Fanout, durable: true, autoDelete: false);
    // The internal topic exchange "orders.archive" exists already: RabbitMQ.Client 7 cannot set
    // exchange.declare's internal flag, so populate-rabbitmq.sh creates it with import_definitions.
    // RabbitMQ leaves internal exchanges out of its export but keeps their bindings, so the fixture
    // has two bindings that name an exchange it does not define (RabbitMQ's import skips them).

    // Queues: TTL + dead-lettering, a length-limited audit log, a quorum queue, a lazy catch-all,
    // a priority queue and the archive.
    await ch.QueueDeclareAsync("orders.created", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?>
        {
            ["x-message-ttl"] = 60000,
            ["x-dead-letter-exchange"] = "orders.dlx",
            ["x-dead-letter-routing-key"] = "orders.dead",
        });
    await ch.QueueDeclareAsync("orders.dead", durable: true, exclusive: false, autoDelete: false);
    await ch.QueueDeclareAsync("orders.audit-log", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["x-max-length"] = 10000, ["x-overflow"] = "drop-head" });
    await ch.QueueDeclareAsync("orders.payments", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-delivery-limit"] = 5 });
    await ch.QueueDeclareAsync("orders.unrouted", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["x-queue-mode"] = "lazy" });
    await ch.QueueDeclareAsync("orders.archive-log", durable: true, exclusive: false, autoDelete: false);
    await ch.QueueDeclareAsync("orders.priority-eu", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["x-max-priority"] = 10 });

    // Bindings: topic patterns, the headers match, exchange-to-exchange, dead-letter and unrouted.
    await ch.QueueBindAsync("orders.created", "orders.events", "order.created.#");
    await ch.QueueBindAsync("orders.payments", "orders.events", "order.*.paid");
    await ch.QueueBindAsync("orders.dead", "orders.dlx", "orders.dead");
    await ch.QueueBindAsync("orders.unrouted", "orders.unrouted", "");
    await ch.ExchangeBindAsync("orders.audit", "orders.events", "#");
    await ch.QueueBindAsync("orders.audit-log", "orders.audit", "");
    await ch.ExchangeBindAsync("orders.archive", "orders.audit", "");
    await ch.QueueBindAsync("orders.archive-log", "orders.archive", "order.#");
    await ch.QueueBindAsync("orders.priority-eu", "orders.by-header", "",
        new Dictionary<string, object?> { ["x-match"] = "all", ["priority"] = "high", ["region"] = "eu" });
    await ch.QueueBindAsync("orders.audit-log", "orders.by-header", "",
        new Dictionary<string, object?> { ["x-match"] = "any", ["audit"] = true, ["retries"] = 3 });
}

async Task DeclareBillingAsync()
{
    var (connection, ch) = await OpenAsync("billing");
    await using var _ = connection;
    await using var __ = ch;

    await ch.ExchangeDeclareAsync("billing.events", ExchangeType.Direct, durable: true, autoDelete: false);
    await ch.ExchangeDeclareAsync("billing.dlx", ExchangeType.Fanout, durable: true, autoDelete: false);
    await ch.QueueDeclareAsync("billing.invoices", durable: true, exclusive: false, autoDelete: false,
        arguments: new Dictionary<string, object?> { ["x-max-length"] = 5000, ["x-max-length-bytes"] = 10485760L });
    await ch.QueueDeclareAsync("billing.dlq", durable: true, exclusive: false, autoDelete: false);
    // A transient (non-durable) queue.
    await ch.QueueDeclareAsync("billing.cache-refresh", durable: false, exclusive: false, autoDelete: false);
    await ch.QueueBindAsync("billing.invoices", "billing.events", "invoice.created");
    await ch.QueueBindAsync("billing.invoices", "billing.events", "invoice.updated");
    await ch.QueueBindAsync("billing.dlq", "billing.dlx", "");
    await ch.QueueBindAsync("billing.cache-refresh", "amq.direct", "cache.refresh");
}
