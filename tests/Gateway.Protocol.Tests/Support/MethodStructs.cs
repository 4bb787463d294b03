using System.Reflection;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Tests.Support;

/// <summary>Every IAmqpMethod&lt;T&gt; struct in the codec assembly with its static Id, found by reflection.</summary>
internal static class MethodStructs
{
    public static IReadOnlyList<(Type Type, AmqpMethodId Id)> All { get; } = Find();

    private static List<(Type Type, AmqpMethodId Id)> Find()
    {
        return typeof(IAmqpMethod).Assembly.GetTypes()
            .Where(t => t.IsValueType && t.GetInterfaces().Any(IsAmqpMethodInterface))
            .Select(t => (t, (AmqpMethodId)t.GetProperty("Id", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!))
            .OrderBy(x => x.Item2)
            .ToList();
    }

    private static bool IsAmqpMethodInterface(Type i) => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IAmqpMethod<>);
}
