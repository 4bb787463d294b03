using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace MetaService.Api.Tests.Support;

/// <summary>
/// Compares contract records by value. The records hold JsonObjects, and lists, which compare by reference,
/// so records that crossed HTTP (or were read twice) never compare equal with the records' own Equals.
/// </summary>
public sealed class RecordComparer : IEqualityComparer<object?>
{
    // One shared instance: records compare their JsonObject members by reference.
    private static readonly JsonObject Empty = [];

    public static RecordComparer Instance { get; } = new();

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (ExchangeRecord a, ExchangeRecord b) => a with { Arguments = Empty } == b with { Arguments = Empty } && Same(a.Arguments, b.Arguments),
        (QueueRecord a, QueueRecord b) => a with { Arguments = Empty } == b with { Arguments = Empty } && Same(a.Arguments, b.Arguments),
        (BindingRecord a, BindingRecord b) => a with { Arguments = Empty } == b with { Arguments = Empty } && Same(a.Arguments, b.Arguments),
        (PolicyRecord a, PolicyRecord b) => a with { Definition = Empty } == b with { Definition = Empty } && Same(a.Definition, b.Definition),
        _ => x.Equals(y),
    };

    public int GetHashCode([DisallowNull] object? obj) => 0;

    private static bool Same(JsonObject a, JsonObject b) => JsonNode.DeepEquals(a, b);
}
