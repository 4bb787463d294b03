using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Client6;

/// <summary>The main messaging paths as RabbitMQ.Client 6.x drives them: declare, bind, confirmed publish, get, consume, ack.</summary>
public sealed class MessagingScenarios
{
    [Fact]
    public void Declare_bind_publish_with_confirms_get_and_consume()
    {
        using var connection = Broker.Connect();
        using var channel = connection.CreateModel();
        string exchange = $"compat6-x-{Guid.NewGuid():N}", queue = $"compat6-q-{Guid.NewGuid():N}";
        channel.ExchangeDeclare(exchange, ExchangeType.Direct, durable: false, autoDelete: false);
        channel.QueueDeclare(queue, durable: false, exclusive: false, autoDelete: false);
        channel.QueueBind(queue, exchange, "k");
        channel.ConfirmSelect();
        for (int i = 0; i < 5; i++)
        {
            var properties = channel.CreateBasicProperties();
            properties.MessageId = $"m{i}";
            channel.BasicPublish(exchange, "k", mandatory: true, properties, Encoding.UTF8.GetBytes($"b{i}"));
        }

        Assert.True(channel.WaitForConfirms(TimeSpan.FromSeconds(10)));
        Assert.Equal(5u, channel.MessageCount(queue));

        BasicGetResult first = channel.BasicGet(queue, autoAck: false);
        Assert.Equal("m0", first.BasicProperties.MessageId);
        Assert.Equal(4u, first.MessageCount);
        channel.BasicAck(first.DeliveryTag, multiple: false);

        var received = new List<string>();
        using var done = new ManualResetEventSlim();
        channel.BasicQos(0, 2, global: false);
        var consumer = new EventingBasicConsumer(channel);
        consumer.Received += (_, args) =>
        {
            lock (received)
            {
                received.Add(Encoding.UTF8.GetString(args.Body.Span));
                if (received.Count == 4)
                {
                    done.Set();
                }
            }

            channel.BasicAck(args.DeliveryTag, multiple: false);
        };
        string tag = channel.BasicConsume(queue, autoAck: false, consumer);
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(["b1", "b2", "b3", "b4"], received);
        channel.BasicCancel(tag);
        channel.QueueDelete(queue);
        channel.ExchangeDelete(exchange);
    }

    [Fact]
    public void Passive_declare_of_a_missing_queue_closes_the_channel_with_404()
    {
        using var connection = Broker.Connect();
        using var channel = connection.CreateModel();
        var error = Assert.Throws<OperationInterruptedException>(() => channel.QueueDeclarePassive($"compat6-missing-{Guid.NewGuid():N}"));
        Assert.Equal(404, error.ShutdownReason.ReplyCode);
        Assert.True(connection.IsOpen);
    }
}
