using System.Net;
using System.Net.Sockets;

namespace Controller.Service.Cluster;

/// <summary>
/// The client-address scope of a pause rule: one IP address or a CIDR block, kept in canonical text so that the
/// same scope written two ways ("2001:DB8::1" and "2001:db8::1") is one rule, and gateways parse one form.
/// </summary>
internal static class PauseScopes
{
    /// <summary>
    /// The canonical form of <paramref name="text"/>, or null when it is neither an address nor a block. IPv4 must
    /// be written as four decimal parts: the legacy short forms .NET also accepts ("10.1" = 10.0.0.1) are almost
    /// always typos here. A block is kept as its network: 10.1.2.3/16 becomes 10.1.0.0/16, the clients it matches.
    /// </summary>
    public static string? CanonicalAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressPart = slash >= 0 ? text[..slash] : text;
        if (!IPAddress.TryParse(addressPart, out var address) || !IsFullyWritten(addressPart, address))
        {
            return null;
        }

        if (slash < 0)
        {
            return address.ToString();
        }

        return IPNetwork.TryParse(text, out var network) ? network.ToString() : null;
    }

    private static bool IsFullyWritten(string text, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? text.Contains(':', StringComparison.Ordinal)
            : text.Split('.').Length == 4 && text.All(c => c == '.' || char.IsAsciiDigit(c));

    /// <summary>An empty or blank scope value means "no scope".</summary>
    public static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
