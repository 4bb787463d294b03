using System.Net;
using System.Text;
using Gateway.Broker.Topology;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;
using Gateway.Server.Errors;
using Gateway.Server.Logging;
using Gateway.Server.Security;

namespace Gateway.Server.Connections;

/// <summary>
/// The connection handshake as RabbitMQ runs it (rabbit_reader): start → start-ok (SASL) → tune →
/// tune-ok → open → open-ok. Clients may pipeline tune-ok and open (amqplib does); the read loop
/// handles them in order, so that needs nothing special here.
/// </summary>
internal sealed partial class AmqpConnection
{
    private static readonly FieldTable EmptyTable = new();

    private FieldTable _clientProperties = EmptyTable;
    private AuthenticatedUser? _user;

    /// <summary>The vhost this connection opened; empty until connection.open succeeds.</summary>
    public string VirtualHost { get; private set; } = string.Empty;

    public AuthenticatedUser? User => _user;

    /// <summary>
    /// Capabilities the client advertised in client-properties. RabbitMQ sends connection.blocked,
    /// server basic.cancel and the auth-failure connection.close only to clients that advertise them.
    /// </summary>
    internal bool ClientHasCapability(string name) =>
        _clientProperties.TryGetValue("capabilities", out var value) && value is FieldTable capabilities
        && capabilities.TryGetValue(name, out var flag) && flag is true;

    private ValueTask SendStartAsync()
    {
        _state = ConnectionState.AwaitingStartOk;
        var start = new ConnectionStart(0, 9, ServerProperties.Create(_options.ClusterName), SaslMechanisms.Offered, "en_US");
        return Output.SendMethodAsync(0, start);
    }

    private async ValueTask HandleStartOkAsync(ConnectionStartOk startOk)
    {
        _clientProperties = startOk.ClientProperties ?? EmptyTable;
        if (!SaslMechanisms.IsSupported(startOk.Mechanism))
        {
            // rabbit_reader auth_mechanism_to_module: an unoffered mechanism is a hard 503... sent as close.
            throw new AmqpException(
                ReplyCode.CommandInvalid,
                $"unknown authentication mechanism '{startOk.Mechanism}'",
                AmqpMethodId.ConnectionStartOk);
        }

        if (!SaslMechanisms.TryParse(startOk.Mechanism, startOk.Response.Span, out var userName, out var password))
        {
            throw new AmqpException(ReplyCode.SyntaxError, $"malformed {startOk.Mechanism} response", AmqpMethodId.ConnectionStartOk);
        }

        var remote = (Remote as IPEndPoint)?.Address;
        _user = await _credentials.AuthenticateAsync(userName, password, remote, _lifetime.Token);
        if (_user is null)
        {
            await RefuseLoginAsync(userName, startOk.Mechanism);
            return;
        }

        _state = ConnectionState.AwaitingTuneOk;
        await Output.SendMethodAsync(0, new ConnectionTune(_options.ChannelMax, _options.FrameMax, _options.HeartbeatSeconds));
    }

    /// <summary>
    /// RabbitMQ's authentication_failure_close: clients that advertise it get connection.close 403
    /// (RabbitMQ.Client turns that into AuthenticationFailureException); older clients are simply
    /// disconnected, which is all AMQP 0-9-1 itself allows before the connection is open.
    /// </summary>
    private async ValueTask RefuseLoginAsync(string userName, string mechanism)
    {
        AmqpConnectionLog.AuthenticationFailed(_logger, Id, Remote, userName, mechanism);
        if (ClientHasCapability("authentication_failure_close"))
        {
            var error = new AmqpException(
                ReplyCode.AccessRefused,
                $"Login was refused using authentication mechanism {mechanism}. For details see the broker logfile.",
                method: null, // RabbitMQ reports 0/0 here, not connection.start-ok
                forceConnectionClose: true);
            await CloseConnectionAsync(error, waitForCloseOk: false);
        }
        else
        {
            _state = ConnectionState.Closed;
            _terminate = true;
        }
    }

    private void HandleTuneOk(ConnectionTuneOk tuneOk)
    {
        ChannelMax = ValidateNegotiated("channel_max", tuneOk.ChannelMax, (ushort)1, _options.ChannelMax);
        FrameMax = ValidateNegotiated("frame_max", tuneOk.FrameMax, AmqpConstants.FrameMinSize, _options.FrameMax);
        // The server adopts whatever heartbeat the client settled on, including 0 (off).
        StartHeartbeats(tuneOk.Heartbeat);
        _state = ConnectionState.AwaitingOpen;
    }

    /// <summary>
    /// rabbit_reader validate_negotiated_integer_value: below the minimum, above the server's value,
    /// or 0 ("unlimited") when the server set a limit, is a 530.
    /// </summary>
    private static T ValidateNegotiated<T>(string field, T clientValue, T minimum, T serverValue)
        where T : struct, System.Numerics.INumber<T>
    {
        if (clientValue != T.Zero && clientValue < minimum)
        {
            throw new AmqpException(
                ReplyCode.NotAllowed,
                $"negotiated {field} = {clientValue} is lower than the minimum allowed value ({minimum})",
                AmqpMethodId.ConnectionTune);
        }

        if (serverValue != T.Zero && (clientValue == T.Zero || clientValue > serverValue))
        {
            throw new AmqpException(
                ReplyCode.NotAllowed,
                $"negotiated {field} = {clientValue} is higher than the maximum allowed value ({serverValue})",
                AmqpMethodId.ConnectionTune);
        }

        return clientValue;
    }

    private async ValueTask HandleOpenAsync(ConnectionOpen open)
    {
        var access = await _credentials.CheckVirtualHostAsync(_user!, open.VirtualHost, _lifetime.Token);
        switch (access)
        {
            case VirtualHostAccess.NotFound:
                throw new AmqpException(ReplyCode.NotAllowed, $"vhost {open.VirtualHost} not found", AmqpMethodId.ConnectionOpen);
            case VirtualHostAccess.Refused:
                throw new AmqpException(
                    ReplyCode.NotAllowed,
                    $"access to vhost '{open.VirtualHost}' refused for user '{_user!.Name}'",
                    AmqpMethodId.ConnectionOpen);
        }

        VirtualHost = open.VirtualHost;
        Session = new BrokerSession(Id, _user!.Name, VirtualHost);
        _state = ConnectionState.Open;
        StopHandshakeTimer();
        await Output.SendMethodAsync(0, new ConnectionOpenOk());
        AmqpConnectionLog.ConnectionOpened(
            _logger, Id, Remote, VirtualHost, _user!.Name, ClientProperty("product"), ClientProperty("version"), ClientProperty("connection_name"));
    }

    /// <summary>
    /// connection.update-secret (RabbitMQ extension for expiring OAuth2 tokens). With password users
    /// the new secret must still be the user's valid password; refusal is a 530 as in RabbitMQ.
    /// </summary>
    private async ValueTask HandleUpdateSecretAsync(ConnectionUpdateSecret update)
    {
        var secret = Encoding.UTF8.GetString(update.NewSecret.Span);
        var remote = (Remote as IPEndPoint)?.Address;
        var user = await _credentials.AuthenticateAsync(_user!.Name, secret, remote, _lifetime.Token);
        if (user is null)
        {
            throw new AmqpException(ReplyCode.NotAllowed, "Refused to update secret", AmqpMethodId.ConnectionUpdateSecret);
        }

        _user = user;
        await Output.SendMethodAsync(0, new ConnectionUpdateSecretOk());
    }

    private string? ClientProperty(string key) =>
        _clientProperties.TryGetValue(key, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        } : null;
}
