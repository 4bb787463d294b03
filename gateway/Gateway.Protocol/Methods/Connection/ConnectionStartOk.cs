using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.start-ok (10, 11), client → server: client-properties, the chosen mechanism and its response (binary for PLAIN/AMQPLAIN).
/// </summary>
public readonly struct ConnectionStartOk : IAmqpMethod<ConnectionStartOk>
{
    public ConnectionStartOk(FieldTable? clientProperties, string mechanism, ReadOnlyMemory<byte> response, string locale)
    {
        ClientProperties = clientProperties;
        Mechanism = mechanism;
        Response = response;
        Locale = locale;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionStartOk;

    public FieldTable? ClientProperties { get; }

    public string Mechanism { get; }

    public ReadOnlyMemory<byte> Response { get; }

    public string Locale { get; }

    public static ConnectionStartOk Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var clientProperties = reader.ReadTable();
        var mechanism = reader.ReadShortStr();
        var response = reader.ReadLongStrBytes().ToArray();
        var locale = reader.ReadShortStr();
        return new ConnectionStartOk(clientProperties, mechanism, response, locale);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.TableSize(ClientProperties)
        + WireWriter.ShortStrSize(Mechanism)
        + 4 + Response.Length
        + WireWriter.ShortStrSize(Locale);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteTable(ClientProperties);
        writer.WriteShortStr(Mechanism);
        writer.WriteLongStr(Response.Span);
        writer.WriteShortStr(Locale);
        return writer.Position;
    }
}
