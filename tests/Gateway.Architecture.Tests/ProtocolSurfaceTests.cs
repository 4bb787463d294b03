using System.Reflection;
using Gateway.Protocol.Frames;

namespace Gateway.Architecture.Tests;

/// <summary>
/// Gateway.Protocol works on spans, sequences and IBufferWriter, never on streams or sockets: no
/// signature in it (public or not) mentions one, so the codec cannot grow an I/O dependency by the
/// back door of a type that lives in System.Runtime.
/// </summary>
public sealed class ProtocolSurfaceTests
{
    private const BindingFlags AllDeclared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Namespaces of transport and hosting types.</summary>
    private static readonly string[] ForbiddenNamespaces =
    [
        "System.Net",
        "System.IO.Pipelines",
        "System.IO.Pipes",
        "System.IO.Compression",
        "System.Threading.Channels",
        "Microsoft.AspNetCore",
        "Microsoft.Extensions",
    ];

    [Fact]
    public void No_signature_in_the_protocol_assembly_uses_a_stream_or_socket_type()
    {
        var violations = new List<string>();
        foreach (var type in typeof(FrameReader).Assembly.GetTypes())
        {
            foreach (var (where, used) in SignatureTypes(type))
            {
                if (Forbidden(used) is { } reason)
                {
                    violations.Add($"{type.FullName}.{where}: {used} ({reason})");
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_check_recognises_forbidden_types()
    {
        // Guards the test above against passing vacuously.
        Assert.NotNull(Forbidden(typeof(Stream)));
        Assert.NotNull(Forbidden(typeof(MemoryStream)));
        Assert.NotNull(Forbidden(typeof(Task<Stream>)));
        Assert.NotNull(Forbidden(typeof(Stream[])));
        Assert.NotNull(Forbidden(typeof(Stream).MakeByRefType()));
        Assert.NotNull(Forbidden(typeof(System.Net.Sockets.Socket)));
        Assert.Null(Forbidden(typeof(ReadOnlyMemory<byte>)));
        Assert.Null(Forbidden(typeof(System.Buffers.IBufferWriter<byte>)));
    }

    [Fact]
    public void The_public_api_is_found()
    {
        var publicMethods = typeof(FrameReader).Assembly.GetExportedTypes().SelectMany(t => t.GetMethods(AllDeclared)).Count();
        Assert.True(publicMethods > 50, $"only {publicMethods} methods found");
    }

    /// <summary>Every type a member's signature or the type's own declaration mentions.</summary>
    private static IEnumerable<(string Where, Type Used)> SignatureTypes(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return ("(base type)", baseType);
        }

        foreach (var implemented in type.GetInterfaces())
        {
            yield return ("(interface)", implemented);
        }

        foreach (var field in type.GetFields(AllDeclared))
        {
            yield return (field.Name, field.FieldType);
        }

        foreach (var property in type.GetProperties(AllDeclared))
        {
            yield return (property.Name, property.PropertyType);
        }

        foreach (var @event in type.GetEvents(AllDeclared))
        {
            if (@event.EventHandlerType is { } handler)
            {
                yield return (@event.Name, handler);
            }
        }

        foreach (var method in type.GetMethods(AllDeclared).Cast<MethodBase>().Concat(type.GetConstructors(AllDeclared)))
        {
            if (method is MethodInfo info)
            {
                yield return (method.Name + " return", info.ReturnType);
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return ($"{method.Name}({parameter.Name})", parameter.ParameterType);
            }

            if (method.IsGenericMethodDefinition)
            {
                foreach (var constraint in method.GetGenericArguments().SelectMany(a => a.GetGenericParameterConstraints()))
                {
                    yield return (method.Name + " constraint", constraint);
                }
            }
        }
    }

    private static string? Forbidden(Type type)
    {
        if (type.HasElementType)
        {
            return Forbidden(type.GetElementType()!);
        }

        if (type.IsGenericParameter)
        {
            return null;
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                if (Forbidden(argument) is { } reason)
                {
                    return reason;
                }
            }
        }

        if (typeof(Stream).IsAssignableFrom(type))
        {
            return "a Stream";
        }

        var ns = type.Namespace ?? string.Empty;
        var match = ForbiddenNamespaces.FirstOrDefault(f => ns == f || ns.StartsWith(f + ".", StringComparison.Ordinal));
        return match is null ? null : $"from {match}";
    }
}
