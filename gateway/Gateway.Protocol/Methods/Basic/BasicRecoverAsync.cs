using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Basic;

/// <summary>
/// basic.recover-async (60, 100), client → server. Fields in spec order:
/// requeue bit.
/// Deprecated: basic.recover without a reply.
/// </summary>
public readonly struct BasicRecoverAsync : IAmqpMethod<BasicRecoverAsync>
{
    public BasicRecoverAsync(bool requeue)
    {
        Requeue = requeue;
    }

    public static AmqpMethodId Id => AmqpMethodId.BasicRecoverAsync;

    public bool Requeue { get; }

    public static BasicRecoverAsync Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var requeue = reader.ReadBit();
        return new BasicRecoverAsync(requeue);
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
