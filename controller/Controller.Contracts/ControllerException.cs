using System.Net;

namespace Controller.Contracts;

/// <summary>
/// A controller call that did not succeed. <see cref="Status"/> is the HTTP status the active controller
/// answered (400 bad request, 401 bad token, 404 nothing to remove, …); null when no controller instance
/// could be reached or none of them was the leader.
/// </summary>
public sealed class ControllerException : Exception
{
    public ControllerException(HttpStatusCode? status, string message, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
    }

    public HttpStatusCode? Status { get; }

    /// <summary>True when no controller answered as leader (all unreachable or standby).</summary>
    public bool Unavailable => Status is null;
}
