using System.Text;
using Gateway.Log;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Confirm;
using Gateway.Protocol.Methods.Exchange;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using MetaService.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Broker;

/// <summary>basic.publish into the log: routing, write-once fan-out, confirms after durability, returns, and RabbitMQ's refusals.</summary>
public sealed class PublishTests : GatewayTest
{
    private async Task<string> TopicOfAsync(string queue) => (await Gateway.Metadata.GetQueueAsync("/", queue))!.Topic;

    [Fact]
    public async Task A_fanned_out_message_is_stored_once_with_every_queue_topic_and_confirmed()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.ExchangeDeclareAsync("fan", ExchangeType.Fanout);
        foreach (string q in new[] { "f1", "f2", "f3" })
        {
            await channel.QueueDeclareAsync(q, durable: true, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync(q, "fan", "");
        }

        var properties = new BasicProperties { MessageId = "m-1", Headers = new Dictionary<string, object?> { ["tenant"] = "acme" }, DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync("fan", "any", mandatory: true, properties, Encoding.UTF8.GetBytes("hello"));   // returns once confirmed

        long position = -1;
        foreach (string q in new[] { "f1", "f2", "f3" })
        {
            StoredMessage stored = Gateway.Log.Read(await TopicOfAsync(q), 0, 10).Single();
            Assert.Equal("hello", Encoding.UTF8.GetString(stored.Body.Span));
            Assert.True(position == -1 || position == stored.Position, "each queue must point at the same stored record");
            position = stored.Position;
            Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(q)).MessageCount);
        }
    }

    [Fact]
    public async Task Unroutable_mandatory_messages_come_back_with_312_and_their_properties_byte_exact()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var returned = new TaskCompletionSource<(BasicReturnEventArgs Args, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.BasicReturnAsync += (_, args) =>
        {
            returned.TrySetResult((args, args.Body.ToArray()));   // the client reuses the body's buffer after the handler
            return Task.CompletedTask;
        };

        // RabbitMQ.Client 7 reads its x-dotnet-pub-seq-no header back from the return to fail the right publish.
        var error = await Assert.ThrowsAsync<PublishException>(async () =>
            await channel.BasicPublishAsync("amq.direct", "nobody", mandatory: true, new BasicProperties { CorrelationId = "c-7" }, new byte[] { 1, 2, 3 }));
        Assert.True(error.IsReturn);
        (BasicReturnEventArgs args, byte[] body) = await returned.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(312, args.ReplyCode);
        Assert.Equal("NO_ROUTE", args.ReplyText);
        Assert.Equal("amq.direct", args.Exchange);
        Assert.Equal("nobody", args.RoutingKey);
        Assert.Equal("c-7", args.BasicProperties.CorrelationId);
        Assert.Equal(new byte[] { 1, 2, 3 }, body);

        // Without mandatory the message is dropped and still confirmed.
        await channel.BasicPublishAsync("amq.direct", "nobody", mandatory: false, new BasicProperties(), new byte[] { 4 });
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task Publishing_to_a_missing_exchange_is_404_and_to_an_internal_one_403()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.BasicPublishAsync("no-such-exchange", "k", new byte[] { 1 });
            await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
            Assert.Equal(404, channel.CloseReason!.ReplyCode);
            Assert.Equal("NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'", channel.CloseReason.ReplyText);
            Assert.Equal(60, channel.CloseReason.ClassId);
            Assert.Equal(40, channel.CloseReason.MethodId);
        }

        Assert.True(connection.IsOpen);

        // RabbitMQ.Client cannot declare internal exchanges (the flag is deprecated there); a raw client can.
        await using var raw = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await raw.HandshakeAsync();
        await raw.OpenChannelAsync(1);
        await raw.SendMethodAsync(1, new ExchangeDeclare("sealed", "direct", @internal: true));
        await raw.ExpectMethodAsync<ExchangeDeclareOk>(1);
        await raw.PublishAsync(1, new BasicPublish("sealed", "k"), new byte[] { 1 });
        var close = await raw.ExpectMethodAsync<ChannelClose>(1);
        Assert.Equal(403, close.ReplyCode);
        Assert.Equal("ACCESS_REFUSED - cannot publish to internal exchange 'sealed' in vhost '/'", close.ReplyText);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_406_and_immediate_is_540()
    {
        await using var gateway = await GatewayFixture.StartAsync(false, "--max-message-size", "1000");
        await using var connection = await gateway.ClientFactory().CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("small", durable: false, exclusive: false, autoDelete: false);
            await channel.BasicPublishAsync("", "small", new byte[1000]);   // at the limit: fine
            await channel.BasicPublishAsync("", "small", new byte[1001]);
            await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
            Assert.Equal(406, channel.CloseReason!.ReplyCode);
            Assert.Equal("PRECONDITION_FAILED - message size 1001 is larger than configured max size 1000", channel.CloseReason.ReplyText);
        }

        await using (var channel = await connection.CreateChannelAsync())
        {
            Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync("small")).MessageCount);
        }

        await using var raw = await ScriptedAmqpClient.ConnectAsync(gateway.Port);
        await raw.HandshakeAsync();
        await raw.OpenChannelAsync(1);
        await raw.PublishAsync(1, new BasicPublish("", "small", mandatory: false, immediate: true), new byte[] { 1 });
        var close = await raw.ExpectConnectionCloseAsync(ReplyCode.NotImplemented);
        Assert.Equal("NOT_IMPLEMENTED - immediate=true", close.ReplyText);
    }

    [Fact]
    public async Task Publishing_needs_write_permission_on_the_exchange()
    {
        await Gateway.Metadata.PutUserAsync(new UserRecord("reader", RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));
        await Gateway.Metadata.SetPermissionAsync(new PermissionRecord("reader", "/", ".*", "", ".*"));
        await using var connection = await Gateway.ClientFactory("reader", "pw").CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicPublishAsync("amq.topic", "k", new byte[] { 1 });
        await GatewayFixture.WaitUntilAsync(() => !channel.IsOpen);
        Assert.Equal(403, channel.CloseReason!.ReplyCode);
        Assert.Equal("ACCESS_REFUSED - access to exchange 'amq.topic' in vhost '/' refused for user 'reader'", channel.CloseReason.ReplyText);
    }

    [Fact]
    public async Task Confirms_of_a_pipelined_burst_are_coalesced_into_multiple_acks_in_order()
    {
        const int Messages = 400;
        await using var raw = await ScriptedAmqpClient.ConnectAsync(Gateway.Port);
        await raw.HandshakeAsync();
        await raw.OpenChannelAsync(1);
        await raw.SendMethodAsync(1, new QueueDeclare("burst", durable: true));
        await raw.ExpectMethodAsync<global::Gateway.Protocol.Methods.Queue.QueueDeclareOk>(1);
        await raw.SendMethodAsync(1, new ConfirmSelect());
        await raw.ExpectMethodAsync<ConfirmSelectOk>(1);
        var burst = new System.Buffers.ArrayBufferWriter<byte>();
        for (int i = 0; i < Messages; i++)
        {
            FrameWriter.WriteMethod(burst, 1, new BasicPublish("", "burst"));
            FrameWriter.WriteContent(burst, 1, AmqpClassId.Basic, new byte[2], (ReadOnlyMemory<byte>)new byte[16], 0);
        }

        await raw.SendAsync(burst.WrittenSpan);   // one write: the gateway reads and appends them back to back
        var acks = new List<BasicAck>();
        while (acks.Count == 0 || acks[^1].DeliveryTag < Messages)
        {
            acks.Add(await raw.ExpectMethodAsync<BasicAck>(1));
        }

        // Every tag confirmed exactly once, in order, and a frame per group commit rather than per message.
        ulong confirmedThrough = 0;
        foreach (BasicAck ack in acks)
        {
            Assert.True(ack.DeliveryTag > confirmedThrough);
            Assert.Equal(ack.DeliveryTag > confirmedThrough + 1, ack.Multiple);
            confirmedThrough = ack.DeliveryTag;
        }

        Assert.Equal((ulong)Messages, confirmedThrough);
        Assert.True(acks.Count < Messages / 4, $"{acks.Count} acks for {Messages} messages");
        Assert.Equal(Messages, Gateway.Log.ReadyCount(await TopicOfAsync("burst")));
    }

    [Fact]
    public async Task A_publisher_of_large_messages_is_held_back_at_the_connections_byte_budget_and_loses_nothing()
    {
        const int MessageBytes = 64 * 1024;
        const int Messages = 640;   // 40 MiB: far below 4 096 appends, far above the 1 MiB budget plus every buffer on the way
        await using var gateway = await GatewayFixture.StartAsync(false, "--max-publish-bytes-in-flight", "1048576");
        await using var raw = await ScriptedAmqpClient.ConnectAsync(gateway.Port);
        await raw.HandshakeAsync();
        await raw.OpenChannelAsync(1);
        await raw.SendMethodAsync(1, new QueueDeclare("large", durable: true));
        await raw.ExpectMethodAsync<global::Gateway.Protocol.Methods.Queue.QueueDeclareOk>(1);

        // Hold the log's writer: nothing published becomes durable until the gate opens.
        using var gate = new ManualResetEventSlim();
        var held = ((EmbeddedMessageLog)gateway.Log).CommitLog.RunOnWriterAsync(_ => gate.Wait()).AsTask();
        Task publishing;
        try
        {
            long receivedBefore = gateway.Metrics.BytesReceived;
            publishing = Task.Run(async () =>
            {
                for (int i = 0; i < Messages; i++)
                {
                    await raw.PublishAsync(1, new BasicPublish("", "large"), new byte[MessageBytes]);
                }
            });

            // Back-pressure reaches the client: its writes stop completing once the gateway stops reading
            // (the budget, Kestrel's input buffer and the sockets' buffers hold far less than 40 MiB).
            // Without the budget the gateway reads everything, 4 096 appends being the only other limit.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(publishing.IsCompleted, "the publisher was not held back");
            Assert.InRange(gateway.Metrics.BytesReceived - receivedBefore, 0, 3 * 1024 * 1024);
        }
        finally
        {
            gate.Set();
        }

        await held;
        await publishing.WaitAsync(TimeSpan.FromSeconds(60));
        string topic = (await gateway.Metadata.GetQueueAsync("/", "large"))!.Topic;
        await GatewayFixture.WaitUntilAsync(() => gateway.Log.ReadyCount(topic) == Messages);
    }

    [Fact]
    public async Task A_log_that_refuses_the_write_gets_the_publisher_a_nack()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync("doomed", durable: true, exclusive: false, autoDelete: false);
        await ((EmbeddedMessageLog)Gateway.Log).DisposeAsync();   // the store goes away under the gateway
        var error = await Assert.ThrowsAsync<PublishException>(async () => await channel.BasicPublishAsync("", "doomed", new byte[] { 1 }));
        Assert.False(error.IsReturn);
        Assert.Equal(1, Gateway.Logs.Count(2003));
    }
}
