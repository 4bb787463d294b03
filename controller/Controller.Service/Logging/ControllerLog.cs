namespace Controller.Service.Logging;

/// <summary>The controller's log events, with stable ids (4001…). Tokens are never logged.</summary>
internal static partial class ControllerLog
{
    [LoggerMessage(4001, LogLevel.Information, "Controller {InstanceId} listening on {Urls}, advertised as {AdvertiseUrl}")]
    public static partial void Listening(ILogger logger, string instanceId, string urls, string advertiseUrl);

    [LoggerMessage(4002, LogLevel.Information, "Controller state store ready: {StoreKind} ({Location})")]
    public static partial void StoreReady(ILogger logger, string storeKind, string location);

    [LoggerMessage(4003, LogLevel.Warning, "Controller {InstanceId} became LEADER (epoch {Epoch}); loaded {Pauses} pause rules, {ConsumeLimits} consume limits, {PublishLimits} publish limits, {Nodes} nodes")]
    public static partial void BecameLeader(ILogger logger, string instanceId, long epoch, int pauses, int consumeLimits, int publishLimits, int nodes);

    [LoggerMessage(4004, LogLevel.Warning, "Controller {InstanceId} STEPPED DOWN from leader (epoch {Epoch}): {Reason}")]
    public static partial void SteppedDown(ILogger logger, string instanceId, long epoch, string reason);

    [LoggerMessage(4005, LogLevel.Warning, "Leader lease check failed: {Reason}")]
    public static partial void LeaseCheckFailed(ILogger logger, string reason);

    [LoggerMessage(4006, LogLevel.Information, "Controller {InstanceId} is standby; leader is {LeaderId} ({LeaderUrl}), epoch {Epoch}")]
    public static partial void FollowingLeader(ILogger logger, string instanceId, string? leaderId, string? leaderUrl, long epoch);

    [LoggerMessage(4007, LogLevel.Information, "Controller {InstanceId} released the leader lease (epoch {Epoch})")]
    public static partial void LeaseReleased(ILogger logger, string instanceId, long epoch);

    [LoggerMessage(4010, LogLevel.Information, "Gateway node {NodeId} registered ({AmqpEndpoint})")]
    public static partial void NodeRegistered(ILogger logger, string nodeId, string amqpEndpoint);

    [LoggerMessage(4011, LogLevel.Information, "Gateway node {NodeId} is back ({AmqpEndpoint})")]
    public static partial void NodeReturned(ILogger logger, string nodeId, string amqpEndpoint);

    [LoggerMessage(4012, LogLevel.Warning, "Gateway node {NodeId} LOST: no heartbeat since {LastSeen:O} (timeout {Timeout})")]
    public static partial void NodeLost(ILogger logger, string nodeId, DateTimeOffset lastSeen, TimeSpan timeout);

    [LoggerMessage(4013, LogLevel.Warning, "Gateway node {NodeId}: its stored report cannot be used ({Reason}); loaded without it until its next heartbeat")]
    public static partial void StoredReportUnreadable(ILogger logger, string nodeId, string reason);

    [LoggerMessage(4020, LogLevel.Information, "Admin change from {RemoteAddress}: {Change}")]
    public static partial void AdminChange(ILogger logger, string? remoteAddress, string change);

    [LoggerMessage(4030, LogLevel.Warning, "Refused {Method} {Path} from {RemoteAddress}: {Reason}")]
    public static partial void Unauthorized(ILogger logger, string method, string path, string? remoteAddress, string reason);

    [LoggerMessage(4031, LogLevel.Warning, "{Method} {Path}: bad request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string method, string path, string reason);

    [LoggerMessage(4032, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(4033, LogLevel.Error, "{Method} {Path}: the database is unavailable")]
    public static partial void DatabaseUnavailable(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(4034, LogLevel.Warning, "The database is not reachable yet ({Reason}); retrying in {Delay}")]
    public static partial void DatabaseNotReachable(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(4035, LogLevel.Warning, "{Method} {Path}: the leader term ended during the request: {Reason}")]
    public static partial void TermEnded(ILogger logger, string method, string path, string reason);
}
