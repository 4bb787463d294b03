namespace Gateway.Protocol.Types;

/// <summary>
/// The 'D' field type: an AMQP decimal, a scale octet and a signed 32-bit unscaled value
/// (value × 10^-scale). Kept as-is so a table decodes and re-encodes byte for byte.
/// </summary>
public readonly record struct AmqpDecimal(byte Scale, int UnscaledValue)
{
    public decimal ToDecimal() => new(unchecked((int)(uint)Math.Abs((long)UnscaledValue)), 0, 0, UnscaledValue < 0, Scale);
}

/// <summary>The 'T' field type and the timestamp property: seconds since the Unix epoch, 64-bit.</summary>
public readonly record struct AmqpTimestamp(long UnixSeconds);

/// <summary>
/// The 'x' field type (RabbitMQ's byte array). Distinct from 'S' longstr values, which decode to
/// <see cref="byte"/>[] as RabbitMQ.Client decodes them, so re-encoding keeps the original letter.
/// </summary>
public sealed class AmqpBinary : IEquatable<AmqpBinary>
{
    public AmqpBinary(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }

    public bool Equals(AmqpBinary? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => Equals(obj as AmqpBinary);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }
}
