using System.Buffers;
using System.Reflection;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;

namespace Gateway.Fuzz.Tests;

/// <summary>Decodes a method's arguments (the payload after class-id and method-id).</summary>
public delegate void ArgumentsDecoder(ReadOnlySpan<byte> arguments);

/// <summary>Decodes a method's arguments and encodes the result again with FrameWriter; returns the new arguments.</summary>
public delegate byte[] ArgumentsReencoder(ReadOnlySpan<byte> arguments);

/// <summary>One method struct, reached without knowing its type at compile time.</summary>
public sealed record MethodCodec(AmqpMethodId Id, Type Type, ArgumentsDecoder Decode, ArgumentsReencoder Reencode);

/// <summary>
/// Every <see cref="IAmqpMethod{TSelf}"/> in Gateway.Protocol, keyed by <see cref="AmqpMethodId"/>,
/// found by reflection so method structs added later are fuzzed without touching this file.
/// </summary>
public static class MethodCodecs
{
    private static readonly Lazy<IReadOnlyDictionary<AmqpMethodId, MethodCodec>> Table = new(Build);

    public static IReadOnlyDictionary<AmqpMethodId, MethodCodec> ById => Table.Value;

    /// <summary>Struct types implementing IAmqpMethod&lt;T&gt; for themselves.</summary>
    public static IEnumerable<Type> MethodTypes() =>
        typeof(FrameReader).Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsGenericTypeDefinition)
            .Where(t => t.GetInterfaces().Any(i =>
                i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAmqpMethod<>) && i.GenericTypeArguments[0] == t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static Dictionary<AmqpMethodId, MethodCodec> Build()
    {
        const BindingFlags flags = BindingFlags.NonPublic | BindingFlags.Static;
        var getId = typeof(MethodCodecs).GetMethod(nameof(GetId), flags)!;
        var decode = typeof(MethodCodecs).GetMethod(nameof(DecodeArguments), flags)!;
        var reencode = typeof(MethodCodecs).GetMethod(nameof(ReencodeArguments), flags)!;
        var table = new Dictionary<AmqpMethodId, MethodCodec>();
        foreach (var type in MethodTypes())
        {
            var id = (AmqpMethodId)getId.MakeGenericMethod(type).Invoke(null, null)!;
            var codec = new MethodCodec(
                id,
                type,
                decode.MakeGenericMethod(type).CreateDelegate<ArgumentsDecoder>(),
                reencode.MakeGenericMethod(type).CreateDelegate<ArgumentsReencoder>());
            if (!table.TryAdd(id, codec))
            {
                throw new InvalidOperationException($"{type} and {table[id].Type} both claim {id}");
            }
        }

        return table;
    }

    private static AmqpMethodId GetId<T>()
        where T : struct, IAmqpMethod<T> => T.Id;

    private static void DecodeArguments<T>(ReadOnlySpan<byte> arguments)
        where T : struct, IAmqpMethod<T> => _ = T.Read(arguments);

    private static byte[] ReencodeArguments<T>(ReadOnlySpan<byte> arguments)
        where T : struct, IAmqpMethod<T>
    {
        var method = T.Read(arguments);
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteMethod(output, 1, method);
        // Strip the 7-octet frame header, the 4-octet method id and the frame-end octet.
        return output.WrittenSpan[(AmqpConstants.FrameHeaderSize + 4)..^1].ToArray();
    }
}
