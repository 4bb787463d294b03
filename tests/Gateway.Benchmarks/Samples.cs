using System.Buffers;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Benchmarks;

/// <summary>Wire samples shaped like what RabbitMQ.Client 7 sends.</summary>
internal static class Samples
{
    public static readonly byte[] Body = CreateBody(128);

    public static BasicPublish Publish => new("orders", "orders.created.eu-west", mandatory: true);

    /// <summary>The headers a RabbitMQ.Client 7 publisher with confirms and tracing attaches to a message.</summary>
    public static FieldTable PublishHeaders() => new()
    {
        { "x-dotnet-pub-seq-no", 123456L },
        { "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"u8.ToArray() },
        { "tenant", "eu-west-1"u8.ToArray() },
        { "attempt", 1 },
    };

    /// <summary>connection.start-ok client-properties with the keys and value types RabbitMQ.Client 7 sends (values made up).</summary>
    public static FieldTable ClientProperties() => new()
    {
        { "product", "RabbitMQ"u8.ToArray() },
        { "version", "7.1.2"u8.ToArray() },
        { "platform", ".NET"u8.ToArray() },
        { "copyright", "Copyright notice of the client library, about this long."u8.ToArray() },
        { "information", "Licence and project address of the client, a sentence of text."u8.ToArray() },
        {
            "capabilities", new FieldTable
            {
                { "publisher_confirms", true },
                { "exchange_exchange_bindings", true },
                { "basic.nack", true },
                { "consumer_cancel_notify", true },
                { "connection.blocked", true },
                { "authentication_failure_close", true },
            }
        },
        { "connection_name", "orders-service@host-17"u8.ToArray() },
    };

    public static byte[] PublishProperties() => new BasicProperties
    {
        ContentType = "application/json",
        DeliveryMode = 2,
        MessageId = "7d1c3a52-96c4-4b49-9a43-cf5e1a0d3e2b",
        Timestamp = new AmqpTimestamp(1_700_000_000),
        Headers = PublishHeaders(),
    }.ToBytes();

    /// <summary>Arguments (after class and method id) of a method as FrameWriter writes them.</summary>
    public static byte[] Arguments<TMethod>(in TMethod method)
        where TMethod : struct, IAmqpMethod<TMethod>
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMethod(output, 1, method);
        return output.WrittenSpan[(AmqpConstants.FrameHeaderSize + 4)..^1].ToArray();
    }

    /// <summary><paramref name="count"/> basic.ack frames back to back, as a consumer acking one by one sends them.</summary>
    public static byte[] AckStream(int count)
    {
        var output = new ArrayBufferWriter<byte>();
        for (var tag = 1; tag <= count; tag++)
        {
            FrameWriter.WriteMethod(output, 1, new BasicAck((ulong)tag));
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary><paramref name="count"/> messages, each basic.publish + content header + one body frame.</summary>
    public static byte[] PublishStream(int count)
    {
        var output = new ArrayBufferWriter<byte>();
        var properties = PublishProperties();
        for (var i = 0; i < count; i++)
        {
            FrameWriter.WriteMethod(output, 1, Publish);
            FrameWriter.WriteContent(output, 1, AmqpClassId.Basic, properties, Body, AmqpConstants.DefaultFrameMax);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The same bytes in segments of <paramref name="segmentSize"/>, as a PipeReader returns a large read.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        Chunk? first = null;
        Chunk? last = null;
        for (var offset = 0; offset < data.Length; offset += segmentSize)
        {
            var memory = data.AsMemory(offset, Math.Min(segmentSize, data.Length - offset)).ToArray();
            var chunk = new Chunk(memory, offset);
            if (last is null)
            {
                first = chunk;
            }
            else
            {
                last.SetNext(chunk);
            }

            last = chunk;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private static byte[] CreateBody(int size)
    {
        var body = new byte[size];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)('a' + (i % 26));
        }

        return body;
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Chunk next) => Next = next;
    }
}
