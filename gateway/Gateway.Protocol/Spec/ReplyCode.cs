namespace Gateway.Protocol.Spec;

/// <summary>
/// AMQP 0-9-1 reply codes (spec constants). Soft errors (3xx/4xx) close the channel,
/// hard errors (5xx, 320, 402) close the connection; see <see cref="ReplyCodes.IsHardError"/>.
/// </summary>
public enum ReplyCode : ushort
{
    Success = 200,
    ContentTooLarge = 311,
    NoRoute = 312,
    NoConsumers = 313,
    ConnectionForced = 320,
    InvalidPath = 402,
    AccessRefused = 403,
    NotFound = 404,
    ResourceLocked = 405,
    PreconditionFailed = 406,
    FrameError = 501,
    SyntaxError = 502,
    CommandInvalid = 503,
    ChannelError = 504,
    UnexpectedFrame = 505,
    ResourceError = 506,
    NotAllowed = 530,
    NotImplemented = 540,
    InternalError = 541,
}

public static class ReplyCodes
{
    /// <summary>
    /// The spec marks these "connection" exceptions; RabbitMQ sends connection.close for them
    /// (rabbit_binary_generator:map_exception/2) and channel.close for the rest.
    /// </summary>
    public static bool IsHardError(this ReplyCode code) => code switch
    {
        ReplyCode.ConnectionForced or ReplyCode.InvalidPath or ReplyCode.FrameError or ReplyCode.SyntaxError
            or ReplyCode.CommandInvalid or ReplyCode.ChannelError or ReplyCode.UnexpectedFrame or ReplyCode.ResourceError
            or ReplyCode.NotAllowed or ReplyCode.NotImplemented or ReplyCode.InternalError => true,
        _ => false,
    };

    /// <summary>The spec's constant name, which RabbitMQ puts at the start of every reply text ("NOT_FOUND - …").</summary>
    public static string Name(this ReplyCode code) => code switch
    {
        ReplyCode.Success => "REPLY_SUCCESS",
        ReplyCode.ContentTooLarge => "CONTENT_TOO_LARGE",
        ReplyCode.NoRoute => "NO_ROUTE",
        ReplyCode.NoConsumers => "NO_CONSUMERS",
        ReplyCode.ConnectionForced => "CONNECTION_FORCED",
        ReplyCode.InvalidPath => "INVALID_PATH",
        ReplyCode.AccessRefused => "ACCESS_REFUSED",
        ReplyCode.NotFound => "NOT_FOUND",
        ReplyCode.ResourceLocked => "RESOURCE_LOCKED",
        ReplyCode.PreconditionFailed => "PRECONDITION_FAILED",
        ReplyCode.FrameError => "FRAME_ERROR",
        ReplyCode.SyntaxError => "SYNTAX_ERROR",
        ReplyCode.CommandInvalid => "COMMAND_INVALID",
        ReplyCode.ChannelError => "CHANNEL_ERROR",
        ReplyCode.UnexpectedFrame => "UNEXPECTED_FRAME",
        ReplyCode.ResourceError => "RESOURCE_ERROR",
        ReplyCode.NotAllowed => "NOT_ALLOWED",
        ReplyCode.NotImplemented => "NOT_IMPLEMENTED",
        ReplyCode.InternalError => "INTERNAL_ERROR",
        _ => ((ushort)code).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
