using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.consume-ok (60, 21), server → client. Fields in spec order:
/// consumer-tag shortstr.
/// The consumer tag in effect (the generated one if the client sent none).
/// </summary>
public readonly struct BasicConsumeOk : IAmqpMethod<BasicConsumeOk>
{
    public BasicConsumeOk(string consumerTag)
    {
        ConsumerTag = consumerTag;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicConsumeOk;

    public string ConsumerTag { get; }

    public static BasicConsumeOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var consumerTag = reader.ReadShortStr();
        return new BasicConsumeOk(consumerTag);
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
