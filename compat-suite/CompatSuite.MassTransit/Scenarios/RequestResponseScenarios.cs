using System.Collections.Concurrent;
using CompatSuite.MassTransit.Fixtures;
using MassTransit;

namespace CompatSuite.MassTransit.Scenarios;

/// <summary>
/// Request/response with MassTransit's request client: the request carries the bus's own temporary queue as
/// its response address (a server-named-style, auto-delete queue MassTransit declares with arguments such as
/// x-expires), and the responder sends the reply there.
/// </summary>
public sealed class RequestResponseScenarios
{
    [Fact]
    public async Task The_request_client_gets_each_response_on_the_bus_temporary_queue()
    {
        var runId = Guid.NewGuid();
        string queue = $"compat-mt-stock-{runId.ToString("N")[..12]}";
        var requestsSeen = new ConcurrentBag<(string Sku, Uri? ResponseAddress)>();

        try
        {
            await using var bus = await TestBus.StartAsync(cfg =>
                // Default endpoint settings (durable, not auto-delete): the request client's send side declares the
                // "queue:" address itself, and against a non-durable auto-delete endpoint queue RabbitMQ refuses
                // that declare (405 RESOURCE_LOCKED), which MassTransit retries forever.
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.Handler<CheckStock>(async context =>
                    {
                        requestsSeen.Add((context.Message.Sku, context.ResponseAddress));
                        await context.RespondAsync(new StockLevel(context.Message.RunId, context.Message.Sku, context.Message.Sku.Length * 7));
                    });
                }));

            IRequestClient<CheckStock> client = bus.Instance.CreateRequestClient<CheckStock>(
                new Uri($"queue:{queue}"), RequestTimeout.After(s: 20));

            // Several requests in flight at once: each response has to find its own request by RequestId.
            string[] skus = Enumerable.Range(1, 8).Select(i => new string('x', i) + $"-{i}").ToArray();
            Response<StockLevel>[] responses = await Task.WhenAll(skus.Select(sku => client.GetResponse<StockLevel>(new CheckStock(runId, sku), TestBus.OperationTimeout())));

            for (int i = 0; i < skus.Length; i++)
            {
                Assert.Equal(runId, responses[i].Message.RunId);
                Assert.Equal(skus[i], responses[i].Message.Sku);
                Assert.Equal(skus[i].Length * 7, responses[i].Message.Quantity);
                Assert.NotNull(responses[i].RequestId);
                // The response was sent to the bus's temporary endpoint, not to the request queue.
                Assert.Equal(bus.Instance.Address, responses[i].DestinationAddress);
            }

            Assert.Equal(skus.Length, responses.Select(r => r.RequestId).Distinct().Count());
            Assert.Equal(skus.Order(), requestsSeen.Select(r => r.Sku).Order());
            Assert.All(requestsSeen, r => Assert.Equal(bus.Instance.Address, r.ResponseAddress));
        }
        finally
        {
            await BrokerAdmin.DeleteAsync([queue], [queue]);
        }
    }
}
