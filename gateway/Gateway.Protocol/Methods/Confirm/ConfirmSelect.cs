using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Confirm;

/// <summary>
/// confirm.select (85, 10), client → server. Fields in spec order:
/// no-wait bit.
/// A RabbitMQ extension: puts the channel in publisher-confirm mode.
/// </summary>
public readonly struct ConfirmSelect : IAmqpMethod<ConfirmSelect>
{
    public ConfirmSelect(bool noWait = false)
    {
        NoWait = noWait;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConfirmSelect;

    public bool NoWait { get; }

    public static ConfirmSelect Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var noWait = reader.ReadBit();
        return new ConfirmSelect(noWait);
    }

    public int GetRequiredBufferSize() =>
        1; // one bit in its own octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteBit(NoWait);
        return writer.Position;
    }
}
