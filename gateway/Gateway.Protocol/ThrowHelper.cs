using System.Diagnostics.CodeAnalysis;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol;

/// <summary>Cold throw paths kept out of the hot decode methods so those stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowTruncated(string what) =>
        throw new AmqpProtocolException(ReplyCode.FrameError, $"cannot decode {what}: payload truncated");

    [DoesNotReturn]
    public static void ThrowMalformed(string explanation) =>
        throw new AmqpProtocolException(ReplyCode.FrameError, explanation);

    [DoesNotReturn]
    public static void ThrowUnknownFieldType(byte typeOctet) =>
        throw new AmqpProtocolException(ReplyCode.FrameError, $"unknown field table type '{(char)typeOctet}' (0x{typeOctet:X2})");

    [DoesNotReturn]
    public static void ThrowUnsupportedValue(object? value) =>
        throw new ArgumentException($"a field table cannot hold a value of type {value?.GetType().Name ?? "null"}");

    [DoesNotReturn]
    public static void ThrowShortStringTooLong(int length) =>
        throw new ArgumentException($"a shortstr holds at most 255 bytes, not {length}");

    [DoesNotReturn]
    public static void ThrowDestinationTooSmall() =>
        throw new ArgumentException("destination span is smaller than GetRequiredBufferSize()");
}
