using System.Net;

namespace Gateway.Broker.Traffic;

/// <summary>
/// Which connections a scoped pause holds: those from <see cref="Network"/> (one address is a /32 or /128)
/// and/or named <see cref="ConnectionName"/> (exact, case-sensitive, as RabbitMQ shows connection_name);
/// when both are set, both must match. Neither set: every connection.
/// </summary>
public sealed record PauseScope(IPNetwork? Network, string? ConnectionName)
{
    public static PauseScope Everyone { get; } = new(null, null);

    public bool IsEveryone => Network is null && ConnectionName is null;

    /// <summary>
    /// From a pause rule's scope: <paramref name="clientAddress"/> an IP address or a CIDR block (10.1.0.0/16).
    /// </summary>
    /// <exception cref="FormatException">The address is neither.</exception>
    public static PauseScope Parse(string? clientAddress, string? connectionName)
    {
        IPNetwork? network = null;
        if (!string.IsNullOrWhiteSpace(clientAddress))
        {
            string text = clientAddress.Trim();
            if (IPAddress.TryParse(text, out IPAddress? address) && !text.Contains('/', StringComparison.Ordinal))
            {
                address = ClientIdentity.Normalize(address)!;
                network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            }
            else if (IPNetwork.TryParse(text, out IPNetwork parsed))
            {
                network = parsed;
            }
            else
            {
                throw new FormatException($"'{clientAddress}' is neither an IP address nor a CIDR block");
            }
        }

        return new PauseScope(network, string.IsNullOrEmpty(connectionName) ? null : connectionName);
    }

    public bool Matches(ClientIdentity client)
    {
        if (Network is { } network && (ClientIdentity.Normalize(client.Address) is not { } address || !network.Contains(address)))
        {
            return false;
        }

        return ConnectionName is null || string.Equals(ConnectionName, client.ConnectionName, StringComparison.Ordinal);
    }
}
