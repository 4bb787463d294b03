using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Methods;

/// <summary>
/// An AMQP method's arguments. Each method is one readonly struct (one file per method under
/// Methods/&lt;Class&gt;/) that reads itself from the argument bytes after class-id and method-id,
/// and writes itself into a span sized by <see cref="GetRequiredBufferSize"/>.
/// </summary>
public interface IAmqpMethod
{
    /// <summary>Encoded size of the arguments (class-id and method-id excluded).</summary>
    int GetRequiredBufferSize();

    /// <summary>Writes the arguments; returns the number of bytes written.</summary>
    int WriteTo(Span<byte> destination);
}

/// <summary>Static access to a method's id and decoder, so generic code avoids boxing.</summary>
public interface IAmqpMethod<TSelf> : IAmqpMethod
    where TSelf : struct, IAmqpMethod<TSelf>
{
    static abstract AmqpMethodId Id { get; }

    /// <summary>Decodes the arguments. Throws <see cref="AmqpProtocolException"/> (501) if they are truncated.</summary>
    static abstract TSelf Read(ReadOnlySpan<byte> arguments);
}
