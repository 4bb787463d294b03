using System.Buffers;
using System.Reflection;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Methods;

/// <summary>
/// One method, one sample value and the whole method frame it must be on the wire, written by hand from the
/// spec's field list. Generic code is captured in delegates so a Theory can run every method by name.
/// </summary>
public sealed class MethodCase
{
    private MethodCase(
        string name,
        AmqpMethodId id,
        Type structType,
        byte[] expectedFrame,
        Func<byte[]> encode,
        Action<byte[]> assertDecodes)
    {
        Name = name;
        Id = id;
        StructType = structType;
        ExpectedFrame = expectedFrame;
        Encode = encode;
        AssertDecodes = assertDecodes;
    }

    public string Name { get; }

    public AmqpMethodId Id { get; }

    public Type StructType { get; }

    public byte[] ExpectedFrame { get; }

    /// <summary>FrameWriter.WriteMethod output for the sample (the server → client path).</summary>
    public Func<byte[]> Encode { get; }

    /// <summary>Reads the given frame through FrameReader and X.Read and compares with the sample (the client → server path).</summary>
    public Action<byte[]> AssertDecodes { get; }

    /// <summary>The method arguments: the frame minus header, class/method ids and frame-end.</summary>
    public byte[] Arguments => ExpectedFrame[(AmqpConstants.FrameHeaderSize + 4)..^1];

    public override string ToString() => Name;

    public static MethodCase Create<T>(T sample, ushort channel, string expectedHex)
        where T : struct, IAmqpMethod<T>
    {
        return new MethodCase(
            T.Id.Name(),
            T.Id,
            typeof(T),
            Hex.Parse(expectedHex),
            () =>
            {
                var output = new ArrayBufferWriter<byte>();
                FrameWriter.WriteMethod(output, channel, sample);
                return output.WrittenSpan.ToArray();
            },
            frameBytes =>
            {
                var buffer = new ReadOnlySequence<byte>(frameBytes);
                Assert.True(FrameReader.TryReadFrame(ref buffer, AmqpConstants.DefaultFrameMax, out var frame));
                Assert.True(buffer.IsEmpty);
                Assert.Equal(FrameType.Method, frame.Type);
                Assert.Equal(channel, frame.Channel);
                Assert.Equal(T.Id, frame.ReadMethodId());
                var payload = frame.Payload.ToArray();
                var decoded = T.Read(payload.AsSpan(4));
                AssertSameFields(sample, decoded);
            });
    }

    /// <summary>Every public instance property must match; tables and byte strings compare by content.</summary>
    public static void AssertSameFields<T>(T expected, T actual)
        where T : struct
    {
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            switch (e)
            {
                case FieldTable or null when property.PropertyType == typeof(FieldTable):
                    // A null table is written as an empty one and so reads back as an empty one.
                    WireAssert.TablesEqual((FieldTable?)e ?? [], a as FieldTable);
                    break;
                case ReadOnlyMemory<byte> bytes:
                    WireAssert.BytesEqual(bytes.Span, ((ReadOnlyMemory<byte>)a!).Span);
                    break;
                default:
                    Assert.True(Equals(e, a), $"{typeof(T).Name}.{property.Name}: expected {e}, got {a}");
                    break;
            }
        }
    }
}
