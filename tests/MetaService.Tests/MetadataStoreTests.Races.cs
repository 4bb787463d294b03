using MetaService.Contracts;
using MetaService.Core;

namespace MetaService.Tests;

// Gateways racing to declare the same thing through different connections.
public abstract partial class MetadataStoreTests
{
    private const int Racers = 20;
    private const int Rounds = 5;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Of_racing_conflicting_queue_declares_exactly_one_wins_and_the_others_get_406(bool optimistic)
    {
        var vhost = await NewVirtualHostAsync();
        var options = new MetadataStoreOptions { OptimisticDeclares = optimistic };
        var gateways = new[]
        {
            await OpenStoreAsync(options),
            await OpenStoreAsync(options, await AsAnotherProcessAsync(ConnectionString)),
        };

        for (var round = 0; round < Rounds; round++)
        {
            var name = $"race-{round}";
            var before = await CurrentRevisionAsync();
            var results = await RaceAsync(i =>
            {
                var ttl = i % 4 < 2 ? 100 : 200;
                return (ttl, gateways[i % 2].DeclareQueueAsync(Queue(vhost, name, args: Args(("x-message-ttl", ttl))), passive: false));
            });

            var stored = await Store.GetQueueAsync(vhost, name);
            Assert.NotNull(stored);
            var winner = stored.Arguments["x-message-ttl"]!.GetValue<int>();
            foreach (var (ttl, outcome, refusal) in results)
            {
                if (ttl == winner)
                {
                    Assert.Null(refusal);
                    Assert.Equal(stored.Topic, outcome!.Topic);
                }
                else
                {
                    Assert.NotNull(refusal);
                    Assert.Equal(406, refusal.ReplyCode);
                    Assert.Equal(
                        $"inequivalent arg 'x-message-ttl' for queue '{name}' in vhost '{vhost}': received '{ttl}' but current is '{winner}'",
                        refusal.Message);
                }
            }

            // One creation, logged once.
            var change = Assert.Single(await ChangesAfterAsync(before));
            Assert.Equal(("queue", name), (change.Entity, change.Value["name"]!.GetValue<string>()));
        }

        // Optimistic declares on PostgreSQL really do collide on the key and recover by re-reading.
        var conflicts = gateways.Sum(g => g.ConflictRetries);
        Console.WriteLine($"{Provider} optimistic={optimistic}: {conflicts} unique-key conflicts retried");
        if (optimistic && Provider == MetadataProvider.PostgreSql)
        {
            Assert.True(conflicts > 0, "no declare lost the race on the primary key");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Racing_equal_declares_all_succeed_on_one_queue_and_one_exchange(bool optimistic)
    {
        var vhost = await NewVirtualHostAsync();
        var options = new MetadataStoreOptions { OptimisticDeclares = optimistic };
        var gateways = new[]
        {
            await OpenStoreAsync(options),
            await OpenStoreAsync(options, await AsAnotherProcessAsync(ConnectionString)),
        };

        for (var round = 0; round < Rounds; round++)
        {
            var before = await CurrentRevisionAsync();
            var queues = await RaceAsync(i => (0, gateways[i % 2].DeclareQueueAsync(Queue(vhost, $"same-{round}", args: Args(("x-max-length", 7))), passive: false)));
            Assert.All(queues, r => Assert.Null(r.Refusal));
            Assert.Single(queues.Select(r => r.Outcome!.Topic).Distinct());

            var exchanges = await RaceAsync(i => (0, gateways[i % 2].DeclareExchangeAsync(Exchange(vhost, $"same-{round}", "topic"), passive: false)));
            Assert.All(exchanges, r => Assert.Null(r.Refusal));
            Assert.Equal(["queue", "exchange"], (await ChangesAfterAsync(before)).Select(c => c.Entity));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Of_racing_conflicting_exchange_declares_exactly_one_wins(bool optimistic)
    {
        var vhost = await NewVirtualHostAsync();
        var options = new MetadataStoreOptions { OptimisticDeclares = optimistic };
        var gateways = new[]
        {
            await OpenStoreAsync(options),
            await OpenStoreAsync(options, await AsAnotherProcessAsync(ConnectionString)),
        };

        for (var round = 0; round < Rounds; round++)
        {
            var name = $"x-race-{round}";
            var results = await RaceAsync(i =>
            {
                var type = i % 4 < 2 ? "direct" : "fanout";
                return (type, gateways[i % 2].DeclareExchangeAsync(Exchange(vhost, name, type), passive: false));
            });

            var winner = (await Store.GetExchangeAsync(vhost, name))!.Type;
            Assert.All(results.Where(r => r.Input == winner), r => Assert.Null(r.Refusal));
            Assert.All(
                results.Where(r => r.Input != winner),
                r => Assert.Equal(
                    $"inequivalent arg 'type' for exchange '{name}' in vhost '{vhost}': received '{r.Input}' but current is '{winner}'",
                    r.Refusal!.Message));
        }
    }

    /// <summary>Starts <see cref="Racers"/> operations at the same instant and collects each outcome or refusal.</summary>
    private static async Task<(TInput Input, TResult? Outcome, MetadataException? Refusal)[]> RaceAsync<TInput, TResult>(
        Func<int, (TInput Input, Task<TResult> Operation)> start)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racers = Enumerable.Range(0, Racers).Select(i => Task.Run<(TInput, TResult?, MetadataException?)>(async () =>
        {
            await gate.Task;
            var (input, operation) = start(i);
            try
            {
                return (input, await operation, (MetadataException?)null);
            }
            catch (MetadataException refusal)
            {
                return (input, default(TResult), refusal);
            }
        })).ToList();
        gate.SetResult();
        return await Task.WhenAll(racers);
    }
}
