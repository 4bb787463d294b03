using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.secure-ok (10, 21), client → server: the SASL response.
/// </summary>
public readonly struct ConnectionSecureOk : IAmqpMethod<ConnectionSecureOk>
{
    public ConnectionSecureOk(ReadOnlyMemory<byte> response)
    {
        Response = response;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionSecureOk;

    public ReadOnlyMemory<byte> Response { get; }

    public static ConnectionSecureOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var response = reader.ReadLongStrBytes().ToArray();
        return new ConnectionSecureOk(response);
    }

    public int GetRequiredBufferSize() =>
        4 + Response.Length;

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteLongStr(Response.Span);
        return writer.Position;
    }
}
