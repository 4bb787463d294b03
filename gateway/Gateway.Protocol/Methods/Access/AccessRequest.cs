using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Methods.Access;

/// <summary>
/// access.request (30, 10), client → server. Fields in spec order:
/// realm shortstr, exclusive/passive/active/write/read bits.
/// Deprecated ticket request; RabbitMQ ignores the flags and answers request-ok with ticket 1.
/// </summary>
public readonly struct AccessRequest : IAmqpMethod<AccessRequest>
{
    public AccessRequest(
        string realm,
        bool exclusive = false,
        bool passive = true,
        bool active = true,
        bool write = true,
        bool read = true)
    {
        Realm = realm;
        Exclusive = exclusive;
        Passive = passive;
        Active = active;
        WriteAccess = write;
        ReadAccess = read;
    }

    public static AmqpMethodId Id => AmqpMethodId.AccessRequest;

    public string Realm { get; }

    public bool Exclusive { get; }

    public bool Passive { get; }

    public bool Active { get; }

    /// <summary>The write flag; named WriteAccess to pair with ReadAccess.</summary>
    public bool WriteAccess { get; }

    /// <summary>The read flag; named ReadAccess because Read is the decoder.</summary>
    public bool ReadAccess { get; }

    public static AccessRequest Read(ReadOnlySpan<byte> arguments)
    {
        var reader = new WireReader(arguments);
        var realm = reader.ReadShortStr();
        var exclusive = reader.ReadBit();
        var passive = reader.ReadBit();
        var active = reader.ReadBit();
        var write = reader.ReadBit();
        var read = reader.ReadBit();
        return new AccessRequest(realm, exclusive, passive, active, write, read);
    }

    public int GetRequiredBufferSize() =>
        WireWriter.ShortStrSize(Realm)
        + 1; // five bits in one octet

    public int WriteTo(Span<byte> destination)
    {
        var writer = new WireWriter(destination);
        writer.WriteShortStr(Realm);
        writer.WriteBit(Exclusive);
        writer.WriteBit(Passive);
        writer.WriteBit(Active);
        writer.WriteBit(WriteAccess);
        writer.WriteBit(ReadAccess);
        return writer.Position;
    }
}
