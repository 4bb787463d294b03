using Gateway.Broker.Delays;
using Gateway.Broker.Topology;
using Gateway.Log;
using Gateway.Protocol.Types;
using Gateway.Server.Publishing;

namespace Gateway.Server.Channels;

/// <summary>
/// Publishing to an x-delayed-message exchange with a positive x-delay (the rabbitmq-delayed-message-exchange plugin):
/// the message is stored in the delay store and routed through the exchange when due; its confirm waits until it is
/// durable there. Routing now found no queue for it (only the alternate exchange's, if any), so a mandatory publish is
/// returned with 312 NO_ROUTE at once, as the plugin's users see (its README: the mandatory flag is not supported).
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>Starts storing the delayed copy of a message; the task completes once it is durable (or fails as an append does).</summary>
    private static Task ScheduleDelayed(TopologyService topology, BrokerSession session, string exchange, string routingKey, byte[] properties, byte[] body, long delay, long now)
    {
        // rabbit_delayed_message_utils:swap_delay_header: the routed message carries x-delay = -delay, so consumers can
        // tell it came through the delay (MassTransit reads it) and routing it when due does not delay it again.
        BasicProperties parsed = BasicProperties.Read(properties);
        object negated = delay <= int.MaxValue ? (object)(int)-delay : -delay;   // a signedint, as the plugin writes it, when it fits
        var headers = new FieldTable(parsed.Headers!.Select(h => h.Key == DelayedMessageExchange.DelayHeader ? new KeyValuePair<string, object?>(h.Key, negated) : h));
        byte[] delayedProperties = (parsed with { Headers = headers }).ToBytes();
        try
        {
            return topology.Delays.ScheduleAsync(
                new ExchangeDelayTarget(session.VirtualHost, exchange, routingKey),
                StoredEnvelope.Encode(exchange, routingKey, delayedProperties),
                body,
                now + delay,
                StoredEnvelope.RoutingKeyHash(routingKey)).AsTask();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or MessageLogWriteException or ArgumentException)
        {
            return Task.FromException(ex);
        }
    }

    /// <summary>
    /// A delayed message that no queue took now: counted in flight like an append and confirmed once the delay store
    /// holds it durably (nacked if it refused it), with the same back-pressure as <see cref="PublishAsync"/>.
    /// </summary>
    private async ValueTask ConfirmWhenScheduledAsync(Task scheduled, ulong sequence, long arrived, long bytes, bool refused)
    {
        Interlocked.Increment(ref _appendsInFlight);
        _connection.AddPublishBytesInFlight(bytes);
        _lastAppend = CompleteAppendAsync(AfterScheduled(scheduled, append: null), sequence, arrived, [], bytes, expires: false, refused);
        if (Volatile.Read(ref _appendsInFlight) >= MaxAppendsInFlight || _connection.PublishBudgetExceeded)
        {
            await _lastAppend;
        }
    }

    /// <summary>Completes when the delayed copy is durable and, if there is one, the append of the copy routed now.</summary>
    private static async Task<AppendResult> AfterScheduled(Task scheduled, Task<AppendResult>? append)
    {
        AppendResult result = append is null ? default : await append.ConfigureAwait(false);
        await scheduled.ConfigureAwait(false);
        return result;
    }
}
