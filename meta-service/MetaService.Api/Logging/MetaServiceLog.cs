namespace MetaService.Api.Logging;

/// <summary>
/// The service's log events, with stable ids (3001…). Request bodies are never logged: they can carry
/// passwords. A user change names the user and how the password was given, never the password.
/// </summary>
internal static partial class MetaServiceLog
{
    [LoggerMessage(3001, LogLevel.Information, "Metadata store ready: {StoreKind} ({Location}), revision {Revision}")]
    public static partial void StoreReady(ILogger logger, string storeKind, string location, long revision);

    [LoggerMessage(3002, LogLevel.Information, "Metadata service listening on {Urls}")]
    public static partial void Listening(ILogger logger, string urls);

    [LoggerMessage(3003, LogLevel.Warning, "Refused {Method} {Path} from {RemoteAddress}: {Reason}")]
    public static partial void Unauthorized(ILogger logger, string method, string path, string? remoteAddress, string reason);

    [LoggerMessage(3004, LogLevel.Information, "{Method} {Path} refused by the store: {ReplyCode} {Explanation}")]
    public static partial void StoreRefused(ILogger logger, string method, string path, int replyCode, string explanation);

    [LoggerMessage(3005, LogLevel.Warning, "{Method} {Path}: bad request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string method, string path, string reason);

    [LoggerMessage(3006, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(3007, LogLevel.Information, "User '{User}' put ({PasswordSource}), tags [{Tags}]")]
    public static partial void UserPut(ILogger logger, string user, string passwordSource, string tags);

    [LoggerMessage(3008, LogLevel.Debug, "Change stream opened after revision {Revision} for {RemoteAddress}")]
    public static partial void StreamOpened(ILogger logger, long revision, string? remoteAddress);

    [LoggerMessage(3009, LogLevel.Debug, "Change stream closed at revision {Revision} for {RemoteAddress}")]
    public static partial void StreamClosed(ILogger logger, long revision, string? remoteAddress);

    [LoggerMessage(3010, LogLevel.Information, "Definitions imported: {Summary}")]
    public static partial void DefinitionsImported(ILogger logger, string summary);

    [LoggerMessage(3011, LogLevel.Information, "Definitions exported")]
    public static partial void DefinitionsExported(ILogger logger);

    [LoggerMessage(3012, LogLevel.Error, "{Method} {Path}: the metadata database is unavailable")]
    public static partial void DatabaseUnavailable(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(3013, LogLevel.Warning, "The metadata database is not reachable yet ({Reason}); retrying in {Delay}")]
    public static partial void DatabaseNotReachable(ILogger logger, string reason, TimeSpan delay);
}
