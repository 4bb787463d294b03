using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.recover (60, 110), client → server. Fields in spec order:
/// requeue bit.
/// Redelivers the channel's unacked messages; RabbitMQ supports only requeue=true (else 540).
/// </summary>
public readonly struct BasicRecover : IAmqpMethod<BasicRecover>
{
    public BasicRecover(bool requeue)
    {
        Requeue = requeue;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicRecover;

    public bool Requeue { get; }

    public static BasicRecover Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var requeue = reader.ReadBit();
        return new BasicRecover(requeue);
    }

    public int GetRequiredBufferSize() =>
        1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteBit(Requeue);
        return writer.Position;
    }
}
