using System.Net;

namespace Gateway.Broker.Traffic;

/// <summary>
/// Who a delivery channel belongs to, as scoped pauses match it: the connection's client address (no port)
/// and its connection_name client property. Plain values: the broker knows no connections or frames.
/// </summary>
/// <param name="ConnectionNumber">Keeps connections apart in reports (two consumers may share a tag on different connections).</param>
public sealed record ClientIdentity(long ConnectionNumber, IPAddress? Address, string? ConnectionName)
{
    /// <summary>A channel opened without one (broker tests): matches only unscoped pauses.</summary>
    public static ClientIdentity Unknown { get; } = new(0, null, null);

    /// <summary>The address in its IPv4 form when it is an IPv4-mapped IPv6 one (a dual-mode socket), so "10.0.0.0/8" matches it.</summary>
    public static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
