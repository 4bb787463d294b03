using System.Net;
using Gateway.Broker.Delivery;
using Gateway.Broker.Tests.Delivery;
using Gateway.Broker.Traffic;

namespace Gateway.Broker.Tests.Traffic;

/// <summary>Pauses, resumes and limit changes racing real dispatch workers and publishers: every message still arrives exactly once.</summary>
public sealed class ConsumeControlStressTests
{
    [Fact]
    public async Task Toggling_pauses_and_limits_under_load_loses_and_duplicates_nothing()
    {
        using var dispatcher = new DeliveryDispatcher(new DeliveryDispatcherOptions { WorkerCount = 4, BurstSize = 8 });
        var named = new ClientIdentity(1, IPAddress.Loopback, "named");
        var other = new ClientIdentity(2, IPAddress.Parse("10.0.0.2"), "other");
        var targets = new[] { new RecordingTarget(), new RecordingTarget() };
        var queue = dispatcher.CreateQueue("q");
        dispatcher.OpenChannel(targets[0], named).Consume(queue.Queue, "a", noAck: true);
        dispatcher.OpenChannel(targets[1], other).Consume(queue.Queue, "b", noAck: true);

        const int Messages = 5000;
        ConsumeControl[] states =
        [
            ConsumeControl.None,
            new([PauseScope.Everyone], null),
            new([PauseScope.Parse(null, "named")], null),
            new([PauseScope.Parse("10.0.0.0/8", null)], 20_000),
            new([], 50_000),
        ];
        using var stop = new CancellationTokenSource();
        long version = 0;
        var toggler = Task.Run(() =>
        {
            var random = new Random(8);
            while (!stop.IsCancellationRequested)
            {
                queue.Queue.ApplyControl(states[random.Next(states.Length)], Interlocked.Increment(ref version));
                Thread.Sleep(1);
            }
        });
        var publisher = Task.Run(() =>
        {
            for (int i = 0; i < Messages; i++)
            {
                queue.Publish();
            }
        });

        await publisher;
        await Task.Delay(200);
        await stop.CancelAsync();
        await toggler;
        queue.Queue.ApplyControl(ConsumeControl.None, Interlocked.Increment(ref version));
        await WaitForTotalAsync(targets, Messages);

        var offsets = targets.SelectMany(t => t.Deliveries).Select(d => d.Message.Offset).ToList();
        Assert.Equal(Messages, offsets.Count);
        Assert.Equal(Messages, offsets.Distinct().Count());
        Assert.DoesNotContain(targets.SelectMany(t => t.Deliveries), d => d.Redelivered);
        Assert.Equal(0, queue.Source.Ready);
    }

    private static async Task WaitForTotalAsync(RecordingTarget[] targets, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (targets.Sum(t => t.DeliveryCount) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {targets.Sum(t => t.DeliveryCount)} of {count} delivered");
            await Task.Delay(10);
        }

        await Task.Delay(50);   // anything beyond would be a duplicate
    }
}
