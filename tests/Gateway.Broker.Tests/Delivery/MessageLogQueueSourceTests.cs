using System.Text;
using Gateway.Broker.Delivery;
using Gateway.Log;
using Gateway.Log.Commit;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>The dispatcher over the embedded log: what it delivers, settles and requeues is the topic's consumption state.</summary>
public sealed class MessageLogQueueSourceTests : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gateway-dispatcher-");
    private EmbeddedMessageLog _log = null!;

    public async Task InitializeAsync()
    {
        _log = EmbeddedMessageLog.Open(
            new CommitLogOptions { Directory = _directory.FullName, FsyncPolicy = FsyncPolicy.None },
            new MessageLogOptions { MaintenanceInterval = null });
        await _log.CreateTopicAsync("q");
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task Deliveries_acks_requeues_and_a_channel_close_drive_the_topics_consumption_state()
    {
        var dispatcher = ManualDispatch.Create();
        var target = new RecordingTarget();
        var channel = dispatcher.OpenChannel(target);
        var queue = dispatcher.CreateQueue("q", new MessageLogQueueSource(_log, "q"));
        channel.SetQos(2, global: false);
        channel.Consume(queue, "c", noAck: false);
        for (int i = 0; i < 4; i++)
        {
            await _log.AppendAsync(new LogMessage(ReadOnlyMemory<byte>.Empty, Encoding.UTF8.GetBytes($"m{i}"), 0, ["q"]));
            queue.NotifyMessagesAppended();
        }

        dispatcher.RunUntilIdle();
        Assert.Equal(["m0", "m1"], target.Deliveries.Select(d => Encoding.UTF8.GetString(d.Message.Body.Span)));
        Assert.Equal((2L, 2L), (_log.GetStats("q").Ready, _log.GetStats("q").InFlight));

        channel.Ack(1, multiple: false);
        channel.Reject(2, requeue: true);
        dispatcher.RunUntilIdle();

        // The requeued m1 comes back first, flagged redelivered, then m2.
        Assert.Equal(
            [("m1", true), ("m2", false)],
            target.Deliveries.Skip(2).Select(d => (Encoding.UTF8.GetString(d.Message.Body.Span), d.Redelivered)));
        Assert.Equal((1L, 2L, 1L), (_log.GetStats("q").Ready, _log.GetStats("q").InFlight, _log.GetStats("q").Watermark));

        channel.Close();
        Assert.Equal((3L, 0L), (_log.GetStats("q").Ready, _log.GetStats("q").InFlight));
    }
}
