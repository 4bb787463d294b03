using System.Text;
using Gateway.Log;
using Gateway.Log.Commit;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>
/// The tx class on the log: a transaction's publishes reach the log only at tx.commit, as one atomic
/// batch; its acks, nacks and rejects change the consumption state only then; rollback and closing
/// discard both. Fake time, so TTL can show that a committed message's clock starts at commit.
/// </summary>
public sealed class TransactionTests : GatewayTest
{
    protected override bool UseFakeTime => true;

    private async Task<string> TopicOfAsync(string queue) => (await Gateway.Metadata.GetQueueAsync("/", queue))!.Topic;

    private static async Task<uint> CountAsync(IChannel channel, string queue) => (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    private static async Task DeclareAsync(IChannel channel, string queue, IDictionary<string, object?>? arguments = null) =>
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);

    [Fact]
    public async Task Commit_writes_the_publishes_as_one_contiguous_batch_and_nothing_before()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("tx-fan", ExchangeType.Fanout);
        foreach (string q in new[] { "tx-a", "tx-b" })
        {
            await DeclareAsync(channel, q);
            await channel.QueueBindAsync(q, "tx-fan", "");
        }

        await channel.TxSelectAsync();
        long endBefore = ((EmbeddedMessageLog)Gateway.Log).CommitLog.EndPosition;
        for (int i = 0; i < 5; i++)
        {
            await channel.BasicPublishAsync("tx-fan", "", Encoding.UTF8.GetBytes($"m{i}"));
        }

        await Task.Delay(100);
        Assert.Equal(endBefore, ((EmbeddedMessageLog)Gateway.Log).CommitLog.EndPosition);   // nothing written yet
        Assert.Equal(0, Gateway.Log.EndOffset(await TopicOfAsync("tx-a")));

        await channel.TxCommitAsync();
        foreach (string q in new[] { "tx-a", "tx-b" })
        {
            IReadOnlyList<StoredMessage> stored = Gateway.Log.Read(await TopicOfAsync(q), 0, 10);
            Assert.Equal(["m0", "m1", "m2", "m3", "m4"], stored.Select(m => Encoding.UTF8.GetString(m.Body.Span)));
            Assert.Equal(5u, await CountAsync(channel, q));
        }

        // One batch: the records follow each other in the commit log, each stored once for both queues.
        IReadOnlyList<StoredMessage> a = Gateway.Log.Read(await TopicOfAsync("tx-a"), 0, 10);
        IReadOnlyList<StoredMessage> b = Gateway.Log.Read(await TopicOfAsync("tx-b"), 0, 10);
        Assert.Equal(a.Select(m => m.Position), b.Select(m => m.Position));
        CommitLog log = ((EmbeddedMessageLog)Gateway.Log).CommitLog;
        Assert.Equal(a.Select(m => m.Position), log.ReadFrom(a[0].Position).Take(5).Select(r => r.Position));
    }

    [Fact]
    public async Task Rollback_and_close_discard_publishes()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var observer = await connection.CreateChannelAsync();
        await DeclareAsync(observer, "tx-discard");
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.TxSelectAsync();
            await channel.BasicPublishAsync("", "tx-discard", "rolled back"u8.ToArray());
            await channel.TxRollbackAsync();
            await channel.BasicPublishAsync("", "tx-discard", "closed"u8.ToArray());
            await channel.CloseAsync();
        }

        await Task.Delay(100);
        Assert.Equal(0, Gateway.Log.EndOffset(await TopicOfAsync("tx-discard")));
        Assert.Equal(0u, await CountAsync(observer, "tx-discard"));
    }

    [Fact]
    public async Task Acks_settle_in_the_log_only_at_commit_and_a_rollback_leaves_them_in_flight()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await DeclareAsync(channel, "tx-acks");
        for (int i = 0; i < 3; i++)
        {
            await channel.BasicPublishAsync("", "tx-acks", Encoding.UTF8.GetBytes($"m{i}"));
        }

        await channel.TxSelectAsync();   // the publishes above were not transactional
        var tags = new List<ulong>();
        for (int i = 0; i < 3; i++)
        {
            tags.Add((await channel.BasicGetAsync("tx-acks", autoAck: false))!.DeliveryTag);
        }

        string topic = await TopicOfAsync("tx-acks");
        await channel.BasicAckAsync(tags[1], multiple: true);
        await channel.TxRollbackAsync();
        Assert.Equal(3, Gateway.Log.GetStats(topic).InFlight);

        await channel.BasicAckAsync(tags[1], multiple: true);   // tags 1 and 2 await acknowledgement again
        await Task.Delay(100);
        Assert.Equal(3, Gateway.Log.GetStats(topic).InFlight);
        await channel.TxCommitAsync();
        Assert.Equal(1, Gateway.Log.GetStats(topic).InFlight);
        Assert.Equal(2, Gateway.Log.GetStats(topic).Watermark);

        // The last ack is never committed: closing requeues it, redelivered.
        await channel.BasicAckAsync(tags[2], multiple: false);
        await channel.CloseAsync();
        await using var after = await connection.CreateChannelAsync();
        await GatewayFixture.WaitUntilAsync(() => Gateway.Log.ReadyCount(topic) == 1, because: "the uncommitted ack's delivery is requeued");
        BasicGetResult again = (await after.BasicGetAsync("tx-acks", autoAck: true))!;
        Assert.Equal("m2", Encoding.UTF8.GetString(again.Body.Span));
        Assert.True(again.Redelivered);
    }

    [Fact]
    public async Task Nack_and_reject_in_a_transaction_act_at_commit()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await DeclareAsync(channel, "tx-dead");
        await DeclareAsync(channel, "tx-source", new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = "tx-dead" });
        await channel.BasicPublishAsync("", "tx-source", "requeued"u8.ToArray());
        await channel.BasicPublishAsync("", "tx-source", "rejected"u8.ToArray());
        await channel.TxSelectAsync();
        BasicGetResult first = (await channel.BasicGetAsync("tx-source", autoAck: false))!;
        BasicGetResult second = (await channel.BasicGetAsync("tx-source", autoAck: false))!;
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);
        await channel.BasicRejectAsync(second.DeliveryTag, requeue: false);
        await Task.Delay(100);
        Assert.Equal(0u, await CountAsync(channel, "tx-source"));
        Assert.Equal(0u, await CountAsync(channel, "tx-dead"));

        await channel.TxCommitAsync();
        await GatewayFixture.WaitUntilAsync(() => CountAsync(channel, "tx-dead").GetAwaiter().GetResult() == 1, because: "the reject dead-letters at commit");
        Assert.Equal(1u, await CountAsync(channel, "tx-source"));
    }

    [Fact]
    public async Task A_committed_message_s_ttl_counts_from_the_commit()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await DeclareAsync(channel, "tx-ttl", new Dictionary<string, object?> { ["x-message-ttl"] = 1000 });
        await channel.TxSelectAsync();
        await channel.BasicPublishAsync("", "tx-ttl", "late"u8.ToArray());
        Gateway.Time!.Advance(TimeSpan.FromSeconds(5));
        await channel.TxCommitAsync();
        await Task.Delay(100);
        Assert.Equal(1u, await CountAsync(channel, "tx-ttl"));   // enqueued at commit: 0 ms old

        Gateway.Time.Advance(TimeSpan.FromMilliseconds(1001));
        await GatewayFixture.WaitUntilAsync(() => CountAsync(channel, "tx-ttl").GetAwaiter().GetResult() == 0, because: "it expires 1 s after the commit");
    }

    [Fact]
    public async Task Refusals_carry_RabbitMQ_s_codes_and_texts()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.TxCommitAsync());
            Assert.Equal(406, error.ShutdownReason!.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - channel is not transactional", error.ShutdownReason.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.TxRollbackAsync());
            Assert.Equal("PRECONDITION_FAILED - channel is not transactional", error.ShutdownReason!.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false)))
        {
            var error = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.TxSelectAsync());
            Assert.Equal("PRECONDITION_FAILED - cannot switch from confirm to tx mode", error.ShutdownReason!.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            await DeclareAsync(channel, "tx-twice");
            await channel.BasicPublishAsync("", "tx-twice", "x"u8.ToArray());
            await channel.TxSelectAsync();
            ulong tag = (await channel.BasicGetAsync("tx-twice", autoAck: false))!.DeliveryTag;
            await channel.BasicAckAsync(tag, multiple: false);
            var closed = new TaskCompletionSource<ShutdownEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            channel.ChannelShutdownAsync += (_, args) => { closed.TrySetResult(args); return Task.CompletedTask; };
            await channel.BasicAckAsync(tag, multiple: false);
            ShutdownEventArgs reason = await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal($"PRECONDITION_FAILED - unknown delivery tag {tag}", reason.ReplyText);
        }

        Assert.True(connection.IsOpen);
    }

    /// <summary>
    /// The log refuses the batch (here: it is closed, as on shutdown; a disk error fails the same way):
    /// tx.commit closes the connection with 541 instead of answering commit-ok, so the client knows none of it took effect.
    /// </summary>
    [Fact]
    public async Task A_commit_the_log_cannot_store_fails_with_541_and_no_commit_ok()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await DeclareAsync(channel, "tx-fail");
        await channel.TxSelectAsync();
        await channel.BasicPublishAsync("", "tx-fail", "lost?"u8.ToArray());
        await Gateway.Log.DisposeAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => channel.TxCommitAsync());
        ShutdownEventArgs? reason = (error as OperationInterruptedException)?.ShutdownReason ?? connection.CloseReason;
        Assert.NotNull(reason);
        Assert.Equal(541, reason!.ReplyCode);
        Assert.Equal("INTERNAL_ERROR - tx.commit failed: the transaction's messages could not be stored, none was", reason.ReplyText);
        Assert.True(Gateway.Logs.Contains(2007));
    }
}
