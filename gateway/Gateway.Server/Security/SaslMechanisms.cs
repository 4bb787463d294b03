using System.Diagnostics.CodeAnalysis;
using System.Text;
using Gateway.Protocol;
using Gateway.Protocol.Types;

namespace Gateway.Server.Security;

/// <summary>
/// The SASL mechanisms RabbitMQ offers by default to password users: PLAIN (RFC 4616) and
/// AMQPLAIN (RabbitMQ's own: a field table body without its length prefix, keys LOGIN and PASSWORD,
/// rabbit_auth_mechanism_amqplain).
/// </summary>
public static class SaslMechanisms
{
    public const string Plain = "PLAIN";
    public const string AmqPlain = "AMQPLAIN";

    /// <summary>The connection.start mechanisms longstr, space-separated.</summary>
    public const string Offered = "PLAIN AMQPLAIN";

    public static bool IsSupported(string mechanism) => mechanism is Plain or AmqPlain;

    /// <summary>Extracts the credentials, or returns false if the response is malformed.</summary>
    public static bool TryParse(string mechanism, ReadOnlySpan<byte> response, [NotNullWhen(true)] out string? user, [NotNullWhen(true)] out string? password)
    {
        user = null;
        password = null;
        return mechanism switch
        {
            Plain => TryParsePlain(response, out user, out password),
            AmqPlain => TryParseAmqPlain(response, out user, out password),
            _ => false,
        };
    }

    // PLAIN: [authzid] NUL authcid NUL passwd. RabbitMQ ignores the authorization identity.
    private static bool TryParsePlain(ReadOnlySpan<byte> response, [NotNullWhen(true)] out string? user, [NotNullWhen(true)] out string? password)
    {
        user = null;
        password = null;
        var first = response.IndexOf((byte)0);
        if (first < 0)
        {
            return false;
        }

        var rest = response[(first + 1)..];
        var second = rest.IndexOf((byte)0);
        if (second < 0)
        {
            return false;
        }

        user = Encoding.UTF8.GetString(rest[..second]);
        password = Encoding.UTF8.GetString(rest[(second + 1)..]);
        return true;
    }

    private static bool TryParseAmqPlain(ReadOnlySpan<byte> response, [NotNullWhen(true)] out string? user, [NotNullWhen(true)] out string? password)
    {
        user = null;
        password = null;
        FieldTable table;
        try
        {
            table = FieldTableCodec.ReadTableBody(response);
        }
        catch (AmqpProtocolException)
        {
            return false;
        }

        user = AsString(table, "LOGIN");
        password = AsString(table, "PASSWORD");
        return user is not null && password is not null;
    }

    private static string? AsString(FieldTable table, string key) =>
        table.TryGetValue(key, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        } : null;
}
