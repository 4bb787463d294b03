using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CompatSuite.Publishing;

/// <summary>
/// The tx class (tx.select, tx.commit, tx.rollback) with RabbitMQ.Client 7.x: publishes and acknowledgements
/// of a transaction take effect at commit, all of them, or are discarded by rollback or by closing the channel.
/// </summary>
public sealed class TransactionScenarios
{
    /// <summary>How long a scenario waits to see that something did not happen (yet).</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private static async Task<string> DeclareQueueAsync(IChannel channel, IDictionary<string, object?>? arguments = null)
    {
        string queue = Scenario.Unique("tx");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false, arguments);
        return queue;
    }

    private static async Task<List<string>> DrainAsync(IChannel channel, string queue)
    {
        var bodies = new List<string>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } got)
        {
            bodies.Add(Encoding.UTF8.GetString(got.Body.Span));
        }

        return bodies;
    }

    [Fact]
    public async Task Committed_publishes_appear_together_and_only_at_commit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        await using var observer = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(observer);

        await tx.TxSelectAsync();
        await tx.TxSelectAsync();   // selecting again is allowed (select-ok)
        foreach (string body in new[] { "a", "b", "c" })
        {
            await tx.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes(body));
        }

        await Task.Delay(Quiet);
        Assert.Equal(0u, await Scenario.MessageCountAsync(observer, queue));
        await tx.TxCommitAsync();
        Assert.Equal(3u, await Scenario.MessageCountAsync(observer, queue));
        Assert.Equal(["a", "b", "c"], await DrainAsync(observer, queue));
        await observer.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Rollback_discards_the_publishes_and_the_channel_stays_transactional()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(tx);

        await tx.TxSelectAsync();
        await tx.BasicPublishAsync("", queue, "dropped"u8.ToArray());
        await tx.BasicPublishAsync("", queue, "dropped too"u8.ToArray());
        await tx.TxRollbackAsync();
        Assert.Equal(0u, await Scenario.MessageCountAsync(tx, queue));

        await tx.BasicPublishAsync("", queue, "kept"u8.ToArray());
        await tx.TxCommitAsync();
        Assert.Equal(["kept"], await DrainAsync(tx, queue));
        await tx.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task Closing_the_channel_discards_an_open_transaction()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var observer = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(observer);
        await using (var tx = await connection.CreateChannelAsync())
        {
            await tx.TxSelectAsync();
            await tx.BasicPublishAsync("", queue, "never"u8.ToArray());
            await tx.CloseAsync();
        }

        await Task.Delay(Quiet);
        Assert.Equal(0u, await Scenario.MessageCountAsync(observer, queue));
        await observer.QueueDeleteAsync(queue);
    }

    /// <summary>
    /// An ack in a transaction settles nothing until commit: after a rollback the delivery is unacknowledged
    /// again (it can be acked anew), and when the channel closes every uncommitted one comes back.
    /// </summary>
    [Fact]
    public async Task Acks_take_effect_at_commit_and_a_rollback_leaves_the_deliveries_unacked()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var observer = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(observer);
        foreach (string body in new[] { "one", "two", "three" })
        {
            await observer.BasicPublishAsync("", queue, Encoding.UTF8.GetBytes(body));
        }

        await Scenario.WaitForMessageCountAsync(observer, queue, 3);   // published on another channel: wait until enqueued

        await using (var tx = await connection.CreateChannelAsync())
        {
            await tx.TxSelectAsync();
            var gets = new List<BasicGetResult>();
            for (int i = 0; i < 3; i++)
            {
                gets.Add((await tx.BasicGetAsync(queue, autoAck: false))!);
            }

            await tx.BasicAckAsync(gets[0].DeliveryTag, multiple: false);
            await tx.BasicAckAsync(gets[1].DeliveryTag, multiple: false);
            await tx.TxRollbackAsync();

            // Rolled back: tag 2 awaits acknowledgement again; this time the ack is committed.
            await tx.BasicAckAsync(gets[1].DeliveryTag, multiple: false);
            await tx.TxCommitAsync();

            // Acked but never committed: back in the queue when the channel closes.
            await tx.BasicAckAsync(gets[2].DeliveryTag, multiple: false);
            await tx.CloseAsync();
        }

        await Scenario.WaitForMessageCountAsync(observer, queue, 2);
        var left = new List<(string Body, bool Redelivered)>();
        while (await observer.BasicGetAsync(queue, autoAck: true) is { } got)
        {
            left.Add((Encoding.UTF8.GetString(got.Body.Span), got.Redelivered));
        }

        Assert.Equal([("one", true), ("three", true)], left);
        await observer.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_requeueing_nack_in_a_transaction_requeues_only_at_commit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        await using var observer = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(observer);
        await observer.BasicPublishAsync("", queue, "again"u8.ToArray());
        await Scenario.WaitForMessageCountAsync(observer, queue, 1);

        await tx.TxSelectAsync();
        BasicGetResult got = (await tx.BasicGetAsync(queue, autoAck: false))!;
        await tx.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        await Task.Delay(Quiet);
        Assert.Equal(0u, await Scenario.MessageCountAsync(observer, queue));

        await tx.TxCommitAsync();
        await Scenario.WaitForMessageCountAsync(observer, queue, 1);
        BasicGetResult again = (await observer.BasicGetAsync(queue, autoAck: true))!;
        Assert.True(again.Redelivered);
        await observer.QueueDeleteAsync(queue);
    }

    [Fact]
    public async Task A_reject_in_a_transaction_dead_letters_only_at_commit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        await using var observer = await connection.CreateChannelAsync();
        string dead = await DeclareQueueAsync(observer);
        string queue = await DeclareQueueAsync(observer, new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = dead });
        await observer.BasicPublishAsync("", queue, "bad"u8.ToArray());
        await Scenario.WaitForMessageCountAsync(observer, queue, 1);

        await tx.TxSelectAsync();
        BasicGetResult got = (await tx.BasicGetAsync(queue, autoAck: false))!;
        await tx.BasicRejectAsync(got.DeliveryTag, requeue: false);
        await Task.Delay(Quiet);
        Assert.Equal(0u, await Scenario.MessageCountAsync(observer, dead));

        await tx.TxCommitAsync();
        await Scenario.WaitForMessageCountAsync(observer, dead, 1);
        Assert.Equal(0u, await Scenario.MessageCountAsync(observer, queue));
        await observer.QueueDeleteAsync(queue);
        await observer.QueueDeleteAsync(dead);
    }

    [Fact]
    public async Task Acking_a_tag_twice_in_one_transaction_is_406_at_once()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(tx);
        await tx.BasicPublishAsync("", queue, "x"u8.ToArray());
        await tx.TxSelectAsync();
        BasicGetResult got = (await tx.BasicGetAsync(queue, autoAck: false))!;
        await tx.BasicAckAsync(got.DeliveryTag, multiple: false);

        Task<ShutdownEventArgs> closed = Scenario.ClosedAsync(tx);
        await tx.BasicAckAsync(got.DeliveryTag, multiple: false);
        ShutdownEventArgs reason = await closed;
        Assert.Equal(406, reason.ReplyCode);
        Assert.Equal($"PRECONDITION_FAILED - unknown delivery tag {got.DeliveryTag}", reason.ReplyText);

        await using var cleanup = await connection.CreateChannelAsync();
        await Scenario.WaitForMessageCountAsync(cleanup, queue, 1);   // the uncommitted ack died with the channel
        await cleanup.QueueDeleteAsync(queue);
    }

    /// <summary>RabbitMQ routes a transactional publish when it arrives but returns an unroutable mandatory one at commit.</summary>
    [Fact]
    public async Task An_unroutable_mandatory_publish_is_returned_at_commit_not_before_and_not_after_rollback()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        var returns = new List<string>();
        tx.BasicReturnAsync += (_, args) =>
        {
            lock (returns)
            {
                returns.Add(Encoding.UTF8.GetString(args.Body.Span));
            }

            return Task.CompletedTask;
        };
        int Returned()
        {
            lock (returns)
            {
                return returns.Count;
            }
        }

        await tx.TxSelectAsync();
        string key = Scenario.Unique("nobody");
        await tx.BasicPublishAsync("amq.direct", key, mandatory: true, new BasicProperties(), "rolled back"u8.ToArray());
        await tx.TxRollbackAsync();
        await tx.BasicPublishAsync("amq.direct", key, mandatory: true, new BasicProperties(), "committed"u8.ToArray());
        await Task.Delay(Quiet);
        Assert.Equal(0, Returned());

        await tx.TxCommitAsync();
        await Scenario.WaitUntilAsync(() => Returned() == 1, "basic.return after commit");
        await Task.Delay(Quiet);
        lock (returns)
        {
            Assert.Equal(["committed"], returns);
        }
    }

    [Fact]
    public async Task Publishing_to_a_missing_exchange_in_a_transaction_is_404_at_once()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        await tx.TxSelectAsync();
        string exchange = Scenario.Unique("missing");
        Task<ShutdownEventArgs> closed = Scenario.ClosedAsync(tx);
        await tx.BasicPublishAsync(exchange, "k", "x"u8.ToArray());
        ShutdownEventArgs reason = await closed;
        Assert.Equal(404, reason.ReplyCode);
        Assert.Equal($"NOT_FOUND - no exchange '{exchange}' in vhost '/'", reason.ReplyText);
    }

    [Fact]
    public async Task Commit_and_rollback_on_a_channel_that_is_not_transactional_are_406()
    {
        await using var connection = await Broker.ConnectAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            ShutdownEventArgs reason = await Scenario.ExpectChannelClosedAsync(channel, () => channel.TxCommitAsync());
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - channel is not transactional", reason.ReplyText);
            Assert.Equal((ushort)90, reason.ClassId);
            Assert.Equal((ushort)20, reason.MethodId);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            ShutdownEventArgs reason = await Scenario.ExpectChannelClosedAsync(channel, () => channel.TxRollbackAsync());
            Assert.Equal(406, reason.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - channel is not transactional", reason.ReplyText);
            Assert.Equal((ushort)30, reason.MethodId);
        }
    }

    [Fact]
    public async Task Tx_select_on_a_confirm_channel_is_406()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false));
        ShutdownEventArgs reason = await Scenario.ExpectChannelClosedAsync(channel, () => channel.TxSelectAsync());
        Assert.Equal(406, reason.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - cannot switch from confirm to tx mode", reason.ReplyText);
        Assert.Equal((ushort)90, reason.ClassId);
        Assert.Equal((ushort)10, reason.MethodId);
    }

    /// <summary>RabbitMQ.Client 7 selects confirms only when it opens a channel, so this one speaks the frames itself.</summary>
    [Fact]
    public async Task Confirm_select_on_a_transactional_channel_is_406()
    {
        var (client, _) = await RawAmqpClient.OpenAsync();
        await using var _ = client;
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
        await client.SendMethodAsync(1, 90, 10);
        await client.ExpectMethodAsync(90, 11);
        await client.SendMethodAsync(1, 85, 10, new MethodArgs().Octet(0));

        CloseReason reason = await client.ExpectChannelCloseAsync(1);
        Assert.Equal(406, reason.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - cannot switch from tx to confirm mode", reason.ReplyText);
        Assert.Equal(85, reason.ClassId);
        Assert.Equal(10, reason.MethodId);
    }

    /// <summary>
    /// x-max-length with reject-publish counts at commit, as the queue receives the transaction's messages
    /// then: a queue filled by someone else before the commit refuses the message, and RabbitMQ fails the
    /// commit with 406 "partial tx completion" (rabbit_channel: a transaction's deliveries are confirmed
    /// internally, and a rejection marks the transaction failed); the other queue still got its copy.
    /// </summary>
    [Fact]
    public async Task A_full_reject_publish_queue_is_judged_at_commit()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var tx = await connection.CreateChannelAsync();
        await using var observer = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(observer, new Dictionary<string, object?> { ["x-max-length"] = 2, ["x-overflow"] = "reject-publish" });
        string other = await DeclareQueueAsync(observer);
        string fanout = Scenario.Unique("tx-fanout");
        await observer.ExchangeDeclareAsync(fanout, ExchangeType.Fanout, autoDelete: false);
        await observer.QueueBindAsync(queue, fanout, "");
        await observer.QueueBindAsync(other, fanout, "");

        await tx.TxSelectAsync();
        await tx.BasicPublishAsync(fanout, "", "late"u8.ToArray());
        await observer.BasicPublishAsync("", queue, "x"u8.ToArray());
        await observer.BasicPublishAsync("", queue, "y"u8.ToArray());
        await Scenario.WaitForMessageCountAsync(observer, queue, 2);

        ShutdownEventArgs reason = await Scenario.ExpectChannelClosedAsync(tx, () => tx.TxCommitAsync());
        Assert.Equal(406, reason.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - partial tx completion", reason.ReplyText);
        Assert.Equal((ushort)90, reason.ClassId);
        Assert.Equal((ushort)20, reason.MethodId);
        Assert.Equal(["x", "y"], await DrainAsync(observer, queue));
        Assert.Equal(["late"], await DrainAsync(observer, other));
        await observer.QueueDeleteAsync(queue);
        await observer.QueueDeleteAsync(other);
        await observer.ExchangeDeleteAsync(fanout);
    }

    [Fact]
    public async Task A_consumer_sees_committed_messages_and_its_committed_acks_free_its_prefetch()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var publisher = await connection.CreateChannelAsync();
        await using var consumerChannel = await connection.CreateChannelAsync();
        string queue = await DeclareQueueAsync(publisher);
        await publisher.TxSelectAsync();
        await consumerChannel.TxSelectAsync();
        await consumerChannel.BasicQosAsync(0, 1, global: false);
        var (consumer, deliveries) = Scenario.RecordingConsumer(consumerChannel);
        await consumerChannel.BasicConsumeAsync(queue, autoAck: false, consumer);

        await publisher.BasicPublishAsync("", queue, "1"u8.ToArray());
        await publisher.BasicPublishAsync("", queue, "2"u8.ToArray());
        await Task.Delay(Quiet);
        Assert.Equal(0, deliveries.Count);
        await publisher.TxCommitAsync();
        await Scenario.WaitUntilAsync(() => deliveries.Count == 1, "the first delivery");

        // The ack frees the prefetch slot only once committed.
        await consumerChannel.BasicAckAsync(deliveries.Snapshot()[0].DeliveryTag, multiple: false);
        await Task.Delay(Quiet);
        Assert.Equal(1, deliveries.Count);
        await consumerChannel.TxCommitAsync();
        await Scenario.WaitUntilAsync(() => deliveries.Count == 2, "the second delivery");
        Assert.Equal(["1", "2"], deliveries.Snapshot().Select(d => Encoding.UTF8.GetString(d.Body)));
        await publisher.QueueDeleteAsync(queue);
    }
}
