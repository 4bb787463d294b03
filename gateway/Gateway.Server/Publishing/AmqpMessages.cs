using Gateway.Broker.Queues;
using Gateway.Server.Logging;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Publishing;

/// <summary>What the host hands the broker about AMQP messages when it wires the gateway together.</summary>
public static class AmqpMessages
{
    /// <summary>Expiration and dead-letter copies over the gateway's stored envelope.</summary>
    public static IMessageFormat Format => AmqpMessageFormat.Instance;

    /// <summary>Log event 2006: a dead-letter copy was refused by the log (the original stays queued).</summary>
    public static void LogDeadLetterNotStored(ILogger logger, string queue, Exception exception) =>
        AmqpConnectionLog.DeadLetterNotStored(logger, queue, exception);
}
