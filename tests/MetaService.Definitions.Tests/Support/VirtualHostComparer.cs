using MetaService.Contracts;

namespace MetaService.Definitions.Tests.Support;

/// <summary>Value equality of vhosts (the record's Tags list compares by reference); null tags equal empty tags.</summary>
internal sealed class VirtualHostComparer : IEqualityComparer<VirtualHostRecord?>
{
    public static VirtualHostComparer Instance { get; } = new();

    public bool Equals(VirtualHostRecord? x, VirtualHostRecord? y) =>
        x is null || y is null
            ? x is null && y is null
            : x.Name == y.Name && (x.Description ?? "") == (y.Description ?? "")
                && (x.Tags ?? []).SequenceEqual(y.Tags ?? [], StringComparer.Ordinal);

    public int GetHashCode(VirtualHostRecord? obj) => obj?.Name.GetHashCode(StringComparison.Ordinal) ?? 0;
}
