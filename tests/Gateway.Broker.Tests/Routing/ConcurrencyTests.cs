using Gateway.Broker.Routing;

namespace Gateway.Broker.Tests.Routing;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Routes_running_during_changes_never_fail_and_see_only_states_the_writer_produced()
    {
        // The writer cycles: exchange x gone -> x without bindings -> x to a -> x to a and b -> gone again
        // (one removal takes both bindings). Readers route without locks the whole time.
        var topology = new Topology().Queues("a", "b");
        string[] possible = ["not found", "", "a", "a,b"];
        using var stop = new CancellationTokenSource();
        var routes = 0;

        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = topology.Table.Route("x", "", null);
                var seen = result.Status == RouteStatus.ExchangeNotFound
                    ? "not found"
                    : string.Join(",", result.Queues.Order(StringComparer.Ordinal));
                Assert.Contains(seen, possible);
                Interlocked.Increment(ref routes);
            }
        })).ToList();

        // Keep changing until the readers have routed many times during the changes (or one has failed).
        for (var cycles = 0; cycles < 1_000 || (Volatile.Read(ref routes) < 20_000 && !readers.Any(r => r.IsCompleted)); cycles++)
        {
            topology.Exchange("x", "fanout").Bind("x", "a").Bind("x", "b");
            topology.Table.RemoveExchange("x");
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(Volatile.Read(ref routes) >= 20_000);
    }
}
