using Gateway.Broker.Queues;
using Gateway.Server.Logging;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Publishing;

/// <summary>What the host hands the broker about AMQP messages when it wires the gateway together.</summary>
public static class AmqpMessages
{
    /// <summary>Expiration and dead-letter copies over the gateway's stored envelope.</summary>
    public static IMessageFormat Format => AmqpMessageFormat.Instance;

    /// <summary>Log event 2006: a queue's background work failed (dead-lettering, expiry, x-expires).</summary>
    public static void LogQueueWorkFailed(ILogger logger, string queue, Exception exception) =>
        AmqpConnectionLog.QueueWorkFailed(logger, queue, exception);
}
