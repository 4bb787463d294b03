using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Connection;

/// <summary>
/// connection.start (10, 10), server → client: protocol version, server-properties, SASL mechanisms and locales (space-separated).
/// </summary>
public readonly struct ConnectionStart : IAmqpMethod<ConnectionStart>
{
    public ConnectionStart(byte versionMajor, byte versionMinor, FieldTable? serverProperties, string mechanisms, string locales)
    {
        VersionMajor = versionMajor;
        VersionMinor = versionMinor;
        ServerProperties = serverProperties;
        Mechanisms = mechanisms;
        Locales = locales;
    }

    public static AmqpMethodId Id => AmqpMethodId.ConnectionStart;

    public byte VersionMajor { get; }

    public byte VersionMinor { get; }

    public FieldTable? ServerProperties { get; }

    public string Mechanisms { get; }

    public string Locales { get; }

    public static ConnectionStart Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var versionMajor = reader.ReadOctet();
        var versionMinor = reader.ReadOctet();
        var serverProperties = reader.ReadTable();
        var mechanisms = reader.ReadLongStr();
        var locales = reader.ReadLongStr();
        return new ConnectionStart(versionMajor, versionMinor, serverProperties, mechanisms, locales);
    }

    public int GetRequiredBufferSize() =>
        1
        + 1
        + WireWriter.TableSize(ServerProperties)
        + WireWriter.LongStrSize(Mechanisms)
        + WireWriter.LongStrSize(Locales);

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteOctet(VersionMajor);
        writer.WriteOctet(VersionMinor);
        writer.WriteTable(ServerProperties);
        writer.WriteLongStr(Mechanisms);
        writer.WriteLongStr(Locales);
        return writer.Position;
    }
}
