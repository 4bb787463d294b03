using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using TestSupport;
using EmbeddedMessageLog = Gateway.Log.EmbeddedMessageLog;

namespace Gateway.Server.Tests.Broker;

/// <summary>Direct reply-to: replies reach the requester's channel without a queue, and nothing of it is stored.</summary>
public sealed class DirectReplyToTests : GatewayTest
{
    [Fact]
    public async Task Replies_go_to_the_requesting_channel_unstored_and_stop_once_its_reply_consumer_is_cancelled()
    {
        await using var connection = await Gateway.ClientFactory().CreateConnectionAsync();
        // Confirms on the requester too: its request is in the queue before the responder's basic.get.
        await using var requester = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await using var responder = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var received = new List<string>();
        var consumer = new AsyncEventingBasicConsumer(requester);
        consumer.ReceivedAsync += (_, d) => { lock (received) { received.Add($"{d.DeliveryTag}:{Encoding.UTF8.GetString(d.Body.Span)}"); } return Task.CompletedTask; };
        string tag = await requester.BasicConsumeAsync("amq.rabbitmq.reply-to", autoAck: true, consumer);
        await requester.QueueDeclareAsync("requests", durable: false, exclusive: false, autoDelete: false);
        await requester.BasicPublishAsync("", "requests", true, new BasicProperties { ReplyTo = "amq.rabbitmq.reply-to" }, Encoding.UTF8.GetBytes("q"));
        var request = await responder.BasicGetAsync("requests", autoAck: true);
        string address = request!.BasicProperties.ReplyTo!;

        long logEndBefore = ((EmbeddedMessageLog)Gateway.Log).CommitLog.EndPosition;
        await responder.BasicPublishAsync("", address, true, new BasicProperties(), Encoding.UTF8.GetBytes("a1"));   // confirmed
        await responder.BasicPublishAsync("", address, true, new BasicProperties(), Encoding.UTF8.GetBytes("a2"));
        await GatewayFixture.WaitUntilAsync(() => { lock (received) { return received.Count == 2; } });
        Assert.Equal(["1:a1", "2:a2"], received);   // the channel's own delivery tags, in order

        await requester.BasicCancelAsync(tag);
        var returned = await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.PublishException>(
            () => responder.BasicPublishAsync("", address, true, new BasicProperties(), Encoding.UTF8.GetBytes("late")).AsTask());
        Assert.True(returned.IsReturn);   // the requester is gone: unroutable, returned to a mandatory publisher
        Assert.Equal(2, received.Count);
        Assert.Equal(logEndBefore, ((EmbeddedMessageLog)Gateway.Log).CommitLog.EndPosition);   // replies are never written
    }
}
