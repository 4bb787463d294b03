using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.open (10, 40), client → server: virtual-host, then reserved capabilities shortstr and insist bit.
/// </summary>
public readonly struct ConnectionOpen : IAmqpMethod<ConnectionOpen>
{
    public ConnectionOpen(string virtualHost)
    {
        VirtualHost = virtualHost;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionOpen;

    public string VirtualHost { get; }

    public static ConnectionOpen Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var virtualHost = reader.ReadShortStr();
        reader.ReadShortStr(); // reserved1
        reader.ReadBit(); // reserved2
        return new ConnectionOpen(virtualHost);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(VirtualHost)
        + 1 /* reserved1, empty shortstr */
        + 1 /* bits share one octet */;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(VirtualHost);
        writer.WriteShortStr(string.Empty); // reserved1
        writer.WriteBit(false); // reserved2
        return writer.Position;
    }
}
