using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Consuming;

/// <summary>Direct reply-to (amq.rabbitmq.reply-to) as RabbitMQ 3.10 does it: RPC without a reply queue.</summary>
public sealed class DirectReplyToScenarios
{
    private const string ReplyTo = "amq.rabbitmq.reply-to";

    [Fact]
    public async Task A_reply_to_the_rewritten_address_reaches_the_requesters_channel()
    {
        await using var requesterConnection = await Broker.ConnectAsync();
        await using var responderConnection = await Broker.ConnectAsync();
        await using var requester = await requesterConnection.CreateChannelAsync();
        await using var responder = await responderConnection.CreateChannelAsync();
        string requests = Scenario.Unique("rpc");
        await responder.QueueDeclareAsync(requests, durable: false, exclusive: false, autoDelete: false);

        Assert.Equal(ReplyTo, (await requester.QueueDeclarePassiveAsync(ReplyTo)).QueueName);

        var replies = new TaskCompletionSource<(string Body, string Exchange, string RoutingKey, string? CorrelationId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var replyConsumer = new AsyncEventingBasicConsumer(requester);
        replyConsumer.ReceivedAsync += (_, d) =>
        {
            replies.TrySetResult((Encoding.UTF8.GetString(d.Body.Span), d.Exchange, d.RoutingKey, d.BasicProperties.CorrelationId));
            return Task.CompletedTask;
        };
        await requester.BasicConsumeAsync(ReplyTo, autoAck: true, replyConsumer);

        var requestSeen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new AsyncEventingBasicConsumer(responder);
        server.ReceivedAsync += async (_, d) =>
        {
            string? address = d.BasicProperties.ReplyTo;
            requestSeen.TrySetResult(address);
            await responder.BasicPublishAsync("", address!, true, new BasicProperties { CorrelationId = d.BasicProperties.CorrelationId },
                Encoding.UTF8.GetBytes("pong"));
        };
        await responder.BasicConsumeAsync(requests, autoAck: true, server);

        await requester.BasicPublishAsync("", requests, true, new BasicProperties { ReplyTo = ReplyTo, CorrelationId = "c-1" }, Encoding.UTF8.GetBytes("ping"));
        string? rewritten = await requestSeen.Task.WaitAsync(Scenario.WaitTimeout);
        Assert.StartsWith(ReplyTo + ".", rewritten);

        var reply = await replies.Task.WaitAsync(Scenario.WaitTimeout);
        Assert.Equal(("pong", "", rewritten!, "c-1"), reply);
        await responder.QueueDeleteAsync(requests);
    }

    [Fact]
    public async Task Publishing_with_the_pseudo_queue_as_reply_to_needs_a_reply_consumer_on_the_channel()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var closed = Scenario.ClosedAsync(channel);
        await channel.BasicPublishAsync("", "anything", true, new BasicProperties { ReplyTo = ReplyTo }, new byte[] { 1 });
        var reason = await closed;
        Assert.Equal(406, reason.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - fast reply consumer does not exist", reason.ReplyText);
    }

    [Fact]
    public async Task The_reply_consumer_must_be_no_ack()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var error = await Assert.ThrowsAsync<OperationInterruptedException>(
            () => channel.BasicConsumeAsync(ReplyTo, autoAck: false, new AsyncEventingBasicConsumer(channel)));
        Assert.Equal(406, error.ShutdownReason!.ReplyCode);
        Assert.Equal("PRECONDITION_FAILED - reply consumer cannot acknowledge", error.ShutdownReason.ReplyText);
    }

    [Fact]
    public async Task The_reply_consumers_tag_is_not_checked_against_the_channels_other_consumers()
    {
        // RabbitMQ 3.10 keeps the reply consumer apart from the channel's consumers (rabbit_channel's
        // reply_consumer), so another consumer may take the same tag; 530 is only for two ordinary consumers.
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        string queue = Scenario.Unique("reply-tag");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true);
        await channel.BasicConsumeAsync(ReplyTo, autoAck: true, "shared-tag", new AsyncEventingBasicConsumer(channel));
        Assert.Equal("shared-tag", await channel.BasicConsumeAsync(queue, autoAck: true, "shared-tag", new AsyncEventingBasicConsumer(channel)));
        Assert.True(channel.IsOpen);
    }
}
