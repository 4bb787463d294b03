using System.Net;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Logging;

/// <summary>
/// Connection and channel log events. Event ids are stable (1xxx connection, 2xxx channel) so
/// operators can alert on them; never renumber, only add.
/// </summary>
internal static partial class AmqpConnectionLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Accepted AMQP connection {ConnectionId} from {Remote}")]
    public static partial void ConnectionAccepted(ILogger logger, string connectionId, EndPoint? remote);

    [LoggerMessage(1002, LogLevel.Information, "Connection {ConnectionId} from {Remote} opened vhost '{VirtualHost}' as user '{User}' (client {ClientProduct} {ClientVersion}, name '{ConnectionName}')")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, EndPoint? remote, string virtualHost, string user, string? clientProduct, string? clientVersion, string? connectionName);

    [LoggerMessage(1003, LogLevel.Debug, "Connection {ConnectionId} closed after {DurationMs} ms ({BytesIn} bytes in, {BytesOut} bytes out)")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, long durationMs, long bytesIn, long bytesOut);

    [LoggerMessage(1004, LogLevel.Warning, "Connection {ConnectionId} from {Remote}: login refused for user '{User}' with mechanism {Mechanism}")]
    public static partial void AuthenticationFailed(ILogger logger, string connectionId, EndPoint? remote, string user, string mechanism);

    [LoggerMessage(1005, LogLevel.Warning, "Connection {ConnectionId} from {Remote}: unsupported protocol header {HeaderHex}; replied with AMQP 0-9-1 header and closed")]
    public static partial void ProtocolHeaderRejected(ILogger logger, string connectionId, EndPoint? remote, string headerHex);

    [LoggerMessage(1006, LogLevel.Warning, "Connection {ConnectionId} from {Remote}: missed heartbeats from client, timeout {TimeoutSeconds} s; closing TCP connection")]
    public static partial void HeartbeatTimeout(ILogger logger, string connectionId, EndPoint? remote, int timeoutSeconds);

    [LoggerMessage(1007, LogLevel.Warning, "Connection {ConnectionId} from {Remote}: handshake not completed within {TimeoutMs} ms; closing")]
    public static partial void HandshakeTimeout(ILogger logger, string connectionId, EndPoint? remote, long timeoutMs);

    [LoggerMessage(1008, LogLevel.Warning, "Connection {ConnectionId} from {Remote}: closing with {ReplyCode} '{ReplyText}' (class {ClassId}, method {MethodId})")]
    public static partial void ConnectionError(ILogger logger, string connectionId, EndPoint? remote, ushort replyCode, string replyText, ushort classId, ushort methodId);

    [LoggerMessage(1009, LogLevel.Information, "Connection {ConnectionId} from {Remote}: client closed the TCP connection mid-frame ({BufferedBytes} bytes of a partial frame discarded)")]
    public static partial void ClientVanishedMidFrame(ILogger logger, string connectionId, EndPoint? remote, long bufferedBytes);

    [LoggerMessage(1010, LogLevel.Error, "Connection {ConnectionId} from {Remote}: unexpected failure; closing with 541")]
    public static partial void UnexpectedFailure(ILogger logger, string connectionId, EndPoint? remote, Exception exception);

    [LoggerMessage(1011, LogLevel.Information, "Connection {ConnectionId} from {Remote}: client closed the connection with {ReplyCode} '{ReplyText}'")]
    public static partial void ClientClosedConnection(ILogger logger, string connectionId, EndPoint? remote, ushort replyCode, string replyText);

    [LoggerMessage(1012, LogLevel.Debug, "Connection {ConnectionId}: client closed the TCP connection without connection.close")]
    public static partial void ClientDisconnected(ILogger logger, string connectionId);

    [LoggerMessage(2001, LogLevel.Warning, "Connection {ConnectionId} channel {Channel}: closing channel with {ReplyCode} '{ReplyText}' (class {ClassId}, method {MethodId})")]
    public static partial void ChannelError(ILogger logger, string connectionId, ushort channel, ushort replyCode, string replyText, ushort classId, ushort methodId);

    [LoggerMessage(2002, LogLevel.Error, "Connection {ConnectionId}: deleting its exclusive queues failed; they are removed at the next start")]
    public static partial void SessionCleanupFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(2003, LogLevel.Error, "Connection {ConnectionId} channel {Channel}: a published message (confirm sequence {Sequence}, 0 without confirms) could not be stored")]
    public static partial void PublishNotStored(ILogger logger, string connectionId, ushort channel, ulong sequence, Exception exception);

    [LoggerMessage(2004, LogLevel.Error, "Connection {ConnectionId} channel {Channel}: the message at offset {Offset} of topic {Topic} cannot be delivered (unreadable envelope); it stays unacknowledged")]
    public static partial void UndeliverableMessage(ILogger logger, string connectionId, ushort channel, string topic, long offset, Exception exception);

    [LoggerMessage(2005, LogLevel.Error, "Connection {ConnectionId}: deleting an auto-delete queue after its last consumer left failed")]
    public static partial void AutoDeleteFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(2006, LogLevel.Error, "Queue {Queue}: background work failed (a dead-lettered copy not written: the message stays in the queue; a message expiry sweep; an x-expires deletion)")]
    public static partial void QueueWorkFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(2007, LogLevel.Error, "Connection {ConnectionId} channel {Channel}: tx.commit could not store its {Count} messages; none was stored and the connection is closed")]
    public static partial void CommitNotStored(ILogger logger, string connectionId, ushort channel, int count, Exception exception);

    [LoggerMessage(1101, LogLevel.Information, "Connection {ConnectionId} from {Remote} held by a publish rate limit (vhost '{VirtualHost}', exchange '{Exchange}'): reading paused")]
    public static partial void HeldByPublishLimit(ILogger logger, string connectionId, EndPoint? remote, string virtualHost, string exchange);

    [LoggerMessage(1102, LogLevel.Information, "Connection {ConnectionId} from {Remote} released by the publish rate limit after {HeldMs} ms")]
    public static partial void ReleasedByPublishLimit(ILogger logger, string connectionId, EndPoint? remote, long heldMs);
}
