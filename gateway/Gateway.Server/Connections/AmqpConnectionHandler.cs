using Gateway.Broker.Topology;
using Gateway.Server.Hosting;
using Gateway.Server.Metrics;
using Gateway.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gateway.Server.Connections;

/// <summary>
/// Kestrel's entry point for AMQP: the returned task is the connection's lifetime
/// (ConnectionHandler contract), so Kestrel closes the socket when <see cref="AmqpConnection.RunAsync"/> ends.
/// </summary>
internal sealed class AmqpConnectionHandler : ConnectionHandler
{
    private readonly Gateway.Server.Channels.DirectReplyTo _directReplies = new();   // one per gateway: replies cross connections
    private readonly GatewayOptions _options;
    private readonly ICredentialStore _credentials;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<AmqpConnection> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly TopologyService? _topology;
    private readonly Control.TrafficControl? _traffic;

    public AmqpConnectionHandler(
        GatewayOptions options,
        ICredentialStore credentials,
        GatewayMetrics metrics,
        ILogger<AmqpConnection> logger,
        TimeProvider timeProvider,
        TopologyService? topology = null,
        Control.TrafficControl? traffic = null)
    {
        _topology = topology;
        _traffic = traffic;
        _options = options;
        _credentials = credentials;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new AmqpConnection(connection, _options, _credentials, _metrics, _logger, _timeProvider, _topology, _directReplies, _traffic).RunAsync();
}
