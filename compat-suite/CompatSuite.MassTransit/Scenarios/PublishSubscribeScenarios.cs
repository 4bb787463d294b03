using System.Collections.Concurrent;
using CompatSuite.MassTransit.Fixtures;
using MassTransit;

namespace CompatSuite.MassTransit.Scenarios;

/// <summary>Publish/subscribe: every receive endpoint subscribed to a message type gets its own copy.</summary>
public sealed class PublishSubscribeScenarios
{
    private const int MessageCount = 20;

    [Fact]
    public async Task Two_receive_endpoints_of_one_message_type_each_get_every_published_message()
    {
        var runId = Guid.NewGuid();
        string suffix = runId.ToString("N")[..12];
        string[] endpoints = [$"compat-mt-pricing-{suffix}", $"compat-mt-catalog-{suffix}"];
        var received = endpoints.ToDictionary(e => e, _ => new ConcurrentBag<PriceChanged>());

        try
        {
            await using (var bus = await TestBus.StartAsync(cfg =>
            {
                foreach (string endpoint in endpoints)
                {
                    // MassTransit declares a fanout exchange per message type and per endpoint and binds
                    // type exchange -> endpoint exchange -> queue; publishing goes to the type exchange.
                    cfg.ReceiveEndpoint(endpoint, e =>
                    {
                        e.AutoDelete = true;
                        e.Durable = false;
                        e.Handler<PriceChanged>(context =>
                        {
                            if (context.Message.RunId == runId)
                            {
                                received[endpoint].Add(context.Message);
                            }

                            return Task.CompletedTask;
                        });
                    });
                }
            }))
            {
                for (int i = 0; i < MessageCount; i++)
                {
                    await bus.Instance.Publish(new PriceChanged(runId, i, $"SKU-{i % 3}", 10m + i), TestBus.OperationTimeout());
                }

                bool allArrived = await Eventually.HoldsAsync(
                    () => received.Values.All(bag => bag.Count >= MessageCount), TimeSpan.FromSeconds(30));
                Assert.True(allArrived, "not every endpoint got every message: " +
                    string.Join(", ", received.Select(r => $"{r.Key} {r.Value.Count}/{MessageCount}")));

                // A little longer, so that a message delivered twice to one endpoint would show.
                await Task.Delay(500);
            }

            foreach (string endpoint in endpoints)
            {
                var messages = received[endpoint].OrderBy(m => m.Sequence).ToList();
                Assert.Equal(Enumerable.Range(0, MessageCount), messages.Select(m => m.Sequence));
                Assert.All(messages, m =>
                {
                    Assert.Equal($"SKU-{m.Sequence % 3}", m.Sku);
                    Assert.Equal(10m + m.Sequence, m.Price);
                });
            }
        }
        finally
        {
            await BrokerAdmin.DeleteAsync(endpoints, endpoints);
        }
    }
}
