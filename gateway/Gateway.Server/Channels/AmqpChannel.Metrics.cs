using Gateway.Server.Metrics;

namespace Gateway.Server.Channels;

/// <summary>The channel's message counters (docs/metrics.md), labelled with its connection's vhost.</summary>
internal sealed partial class AmqpChannel
{
    private MessageCounters? _messageCounters;

    /// <summary>
    /// Resolved on first use, after connection.open fixed the vhost. Dispatch workers may race to resolve it;
    /// both get the same labelled counters, so the race is harmless.
    /// </summary>
    private MessageCounters MessageCounters =>
        _messageCounters ??= _connection.Metrics.ForVirtualHost(_connection.Session?.VirtualHost ?? string.Empty);
}
