using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using static CompatSuite.Fixtures.Scenario;

namespace CompatSuite.Publishing;

/// <summary>
/// What a consumer gets back is what the publisher sent: all 14 basic properties, field tables with every type
/// letter RabbitMQ knows, and bodies that span many frames.
/// </summary>
public sealed class MessageFormatScenarios
{
    private static async Task<BasicGetResult> RoundTripAsync(IChannel channel, BasicProperties properties, byte[] body)
    {
        string queue = Unique("format");
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", queue, mandatory: true, properties, body);
        // Without confirms nothing says when the message is in the queue (RabbitMQ may answer a get right after the
        // publish with get-empty), so ask until it is there.
        BasicGetResult? result = null;
        DateTime deadline = DateTime.UtcNow + WaitTimeout;
        while (result is null && DateTime.UtcNow < deadline)
        {
            result = await channel.BasicGetAsync(queue, autoAck: true);
        }

        await channel.QueueDeleteAsync(queue);
        return Assert.IsType<BasicGetResult>(result);
    }

    [Fact]
    public async Task Every_basic_property_and_field_table_type_arrives_unchanged()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        // RabbitMQ.Client 7 writes each CLR type with one type letter (shown on the right) and reads it back as
        // the type asserted below: a changed byte anywhere in the header would show up as another value or type.
        // With confirm tracking on, RabbitMQ.Client adds its x-dotnet-pub-seq-no header to this very dictionary.
        var headers = new Dictionary<string, object?>
        {
            ["longstr"] = "text ü",                                          // S (read back as byte[])
            ["int"] = -42,                                                     // I
            ["long"] = 1L << 40,                                               // l
            ["short"] = (short)-7,                                             // s
            ["sbyte"] = (sbyte)-3,                                             // b
            ["bool"] = true,                                                   // t
            ["double"] = 1.5,                                                  // d
            ["float"] = 2.5f,                                                  // f
            ["decimal"] = 12.345m,                                             // D
            ["timestamp"] = new AmqpTimestamp(1_700_000_000),                  // T
            ["binary"] = new BinaryTableValue([0, 1, 2, 255]),                 // x
            ["void"] = null,                                                   // V
            ["array"] = new List<object?> { 1, "a", false },                   // A
            ["table"] = new Dictionary<string, object?> { ["nested"] = 5 },    // F
        };
        var sent = new BasicProperties
        {
            ContentType = "application/json",
            ContentEncoding = "gzip",
            Headers = headers,
            DeliveryMode = DeliveryModes.Persistent,
            Priority = 5,
            CorrelationId = "corr-1",
            ReplyTo = "reply-queue",
            Expiration = "600000",
            MessageId = "msg-1",
            Timestamp = new AmqpTimestamp(1_600_000_000),
            Type = "order.created",
            UserId = Broker.Url.UserInfo.Split(':')[0] is { Length: > 0 } user ? Uri.UnescapeDataString(user) : "guest",   // must be the login (else 406)
            AppId = "compat-suite",
            ClusterId = "cluster-7",
        };

        var got = (await RoundTripAsync(channel, sent, "{}"u8.ToArray())).BasicProperties;

        Assert.Equal(sent.ContentType, got.ContentType);
        Assert.Equal(sent.ContentEncoding, got.ContentEncoding);
        Assert.Equal(sent.DeliveryMode, got.DeliveryMode);
        Assert.Equal(sent.Priority, got.Priority);
        Assert.Equal(sent.CorrelationId, got.CorrelationId);
        Assert.Equal(sent.ReplyTo, got.ReplyTo);
        Assert.Equal(sent.Expiration, got.Expiration);
        Assert.Equal(sent.MessageId, got.MessageId);
        Assert.Equal(sent.Timestamp, got.Timestamp);
        Assert.Equal(sent.Type, got.Type);
        Assert.Equal(sent.UserId, got.UserId);
        Assert.Equal(sent.AppId, got.AppId);
        Assert.Equal(sent.ClusterId, got.ClusterId);

        IDictionary<string, object?> h = got.Headers!;
        Assert.Equal(headers.Keys.Order(), h.Keys.Order());
        Assert.Equal("text ü", Encoding.UTF8.GetString(Assert.IsType<byte[]>(h["longstr"])));
        Assert.Equal(-42, Assert.IsType<int>(h["int"]));
        Assert.Equal(1L << 40, Assert.IsType<long>(h["long"]));
        Assert.Equal((short)-7, Assert.IsType<short>(h["short"]));
        Assert.Equal((sbyte)-3, Assert.IsType<sbyte>(h["sbyte"]));
        Assert.True(Assert.IsType<bool>(h["bool"]));
        Assert.Equal(1.5, Assert.IsType<double>(h["double"]));
        Assert.Equal(2.5f, Assert.IsType<float>(h["float"]));
        Assert.Equal(12.345m, Assert.IsType<decimal>(h["decimal"]));
        Assert.Equal(new AmqpTimestamp(1_700_000_000), Assert.IsType<AmqpTimestamp>(h["timestamp"]));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, Assert.IsType<BinaryTableValue>(h["binary"]).Bytes);
        Assert.Null(h["void"]);
        var array = Assert.IsAssignableFrom<IList<object?>>(h["array"]);
        Assert.Equal(3, array.Count);
        Assert.Equal(1, Assert.IsType<int>(array[0]));
        Assert.Equal("a", Encoding.UTF8.GetString(Assert.IsType<byte[]>(array[1])));
        Assert.False(Assert.IsType<bool>(array[2]));
        var table = Assert.IsAssignableFrom<IDictionary<string, object?>>(h["table"]);
        Assert.Equal(5, Assert.IsType<int>(Assert.Single(table).Value));
    }

    /// <summary>Without confirm tracking, so RabbitMQ.Client adds no <c>x-dotnet-pub-seq-no</c> header of its own.</summary>
    [Fact]
    public async Task Absent_properties_stay_absent()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var got = (await RoundTripAsync(channel, new BasicProperties(), [])).BasicProperties;
        Assert.False(got.IsContentTypePresent(), "content-type");
        Assert.False(got.IsHeadersPresent(), $"headers: {string.Join(", ", got.Headers?.Keys ?? [])}");
        Assert.False(got.IsDeliveryModePresent(), "delivery-mode");
        Assert.False(got.IsMessageIdPresent());
        Assert.False(got.IsTimestampPresent());
    }

    /// <summary>
    /// 1 MiB is eight frames at frame_max 131072: the client splits the body into frames of at most frame_max − 8
    /// payload bytes, and the broker must reassemble it on publish and split it again on delivery.
    /// </summary>
    [Theory]
    [InlineData(131_064)]     // exactly one full body frame
    [InlineData(131_065)]     // one byte into a second frame
    [InlineData(1_048_576)]   // 1 MiB
    public async Task A_body_spanning_several_frames_arrives_intact(int size)
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        byte[] body = new byte[size];
        new Random(size).NextBytes(body);
        BasicGetResult got = await RoundTripAsync(channel, new BasicProperties { MessageId = "big" }, body);
        Assert.Equal(size, got.Body.Length);
        Assert.True(body.AsSpan().SequenceEqual(got.Body.Span), "body changed on the way");
        Assert.Equal("big", got.BasicProperties.MessageId);
    }
}
