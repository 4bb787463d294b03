using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.get-empty (60, 72), server → client. Fields in spec order:
/// reserved-1 shortstr.
/// The queue had nothing ready. Its only field is the reserved cluster-id shortstr (RabbitMQ sends "").
/// </summary>
public readonly struct BasicGetEmpty : IAmqpMethod<BasicGetEmpty>
{
    public static AmqpMethodId Id => AmqpMethodId.BasicGetEmpty;

    public static BasicGetEmpty Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        reader.ReadShortStr(); // reserved-1 (cluster-id)
        return new BasicGetEmpty();
    }

    public int GetRequiredBufferSize() =>
        1; // reserved-1, empty shortstr

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(string.Empty); // reserved-1
        return writer.Position;
    }
}
