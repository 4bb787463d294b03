namespace Gwctl;

/// <summary>
/// What every controller command of gwctl exits with, so scripts can branch on it (controller/README.md).
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Done = 0;

    /// <summary>No controller instance reachable, none of them the leader, or a server error.</summary>
    public const int Unavailable = 1;

    /// <summary>The command line is wrong, or the controller refused the request as invalid (400).</summary>
    public const int Usage = 2;

    /// <summary>Nothing to act on (404): a resume with nothing paused, an unthrottle with no limit.</summary>
    public const int NothingToDo = 3;

    /// <summary>The controller refused the token (401 or 403).</summary>
    public const int Unauthorized = 4;

    public const string Summary = "Exit codes: 0 done, 1 controller unreachable or failed, 2 usage error or invalid request, 3 nothing to act on, 4 token refused.";
}
