using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.cancel (60, 30), both directions. Fields in spec order:
/// consumer-tag shortstr, no-wait bit.
/// Ends a consumer. The server → client direction is RabbitMQ's consumer_cancel_notify extension (sent with no-wait set).
/// </summary>
public readonly struct BasicCancel : IAmqpMethod<BasicCancel>
{
    public BasicCancel(string consumerTag, bool noWait = false)
    {
        ConsumerTag = consumerTag;
        NoWait = noWait;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicCancel;

    public string ConsumerTag { get; }

    public bool NoWait { get; }

    public static BasicCancel Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var consumerTag = reader.ReadShortStr();
        var noWait = reader.ReadBit();
        return new BasicCancel(consumerTag, noWait);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(ConsumerTag)
        + 1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(ConsumerTag);
        writer.WriteBit(NoWait);
        return writer.Position;
    }
}
