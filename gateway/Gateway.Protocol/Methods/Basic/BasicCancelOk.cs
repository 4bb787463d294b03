using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.cancel-ok (60, 31), both directions. Fields in spec order:
/// consumer-tag shortstr.
/// Confirms a cancel; RabbitMQ also accepts it from clients answering a server-sent cancel.
/// </summary>
public readonly struct BasicCancelOk : IAmqpMethod<BasicCancelOk>
{
    public BasicCancelOk(string consumerTag)
    {
        ConsumerTag = consumerTag;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicCancelOk;

    public string ConsumerTag { get; }

    public static BasicCancelOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var consumerTag = reader.ReadShortStr();
        return new BasicCancelOk(consumerTag);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(ConsumerTag);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(ConsumerTag);
        return writer.Position;
    }
}
