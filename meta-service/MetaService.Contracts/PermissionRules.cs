using System.Text.RegularExpressions;

namespace MetaService.Contracts;

/// <summary>What a permission regex guards (RabbitMQ's configure / write / read).</summary>
public enum PermissionKind
{
    /// <summary>Declare and delete the resource.</summary>
    Configure,

    /// <summary>Publish to an exchange, bind a queue or exchange as destination.</summary>
    Write,

    /// <summary>Consume from a queue, get, purge; use an exchange as a binding source.</summary>
    Read,
}

/// <summary>
/// RabbitMQ's internal authorization (rabbit_auth_backend_internal): a user's configure/write/read
/// regex for the vhost is matched against the resource name, unanchored (so "^app\." style
/// anchors are the user's to write); an empty regex grants nothing. The default exchange "" is
/// checked under the name "amq.default", as RabbitMQ does.
/// </summary>
public static class PermissionRules
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public static bool IsAllowed(PermissionRecord? permission, PermissionKind kind, string resourceName)
    {
        if (permission is null)
        {
            return false;
        }

        var pattern = kind switch
        {
            PermissionKind.Configure => permission.Configure,
            PermissionKind.Write => permission.Write,
            _ => permission.Read,
        };
        if (pattern.Length == 0)
        {
            return false;
        }

        var name = resourceName.Length == 0 ? "amq.default" : resourceName;
        try
        {
            return Regex.IsMatch(name, pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological operator-supplied regex must not stall a connection: deny.
            return false;
        }
        catch (ArgumentException)
        {
            // An invalid regex grants nothing (RabbitMQ refuses to store one; imports might carry one).
            return false;
        }
    }

    /// <summary>RabbitMQ's 403 explanation, e.g. "access to queue 'q' in vhost '/' refused for user 'u'".</summary>
    public static string RefusalText(string resourceKind, string resourceName, string virtualHost, string user) =>
        $"access to {resourceKind} '{(resourceName.Length == 0 ? "amq.default" : resourceName)}' in vhost '{virtualHost}' refused for user '{user}'";
}
