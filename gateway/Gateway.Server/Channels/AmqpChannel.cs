using Gateway.Protocol;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Access;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Tx;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Types;
using Gateway.Server.Connections;
using Gateway.Server.Errors;
using Gateway.Server.Logging;

namespace Gateway.Server.Channels;

/// <summary>
/// One channel: its open/close/flow lifecycle, the soft-error model (channel.close, then discard
/// everything but close and close-ok until close-ok), and content assembly (a content-bearing
/// method, then one header frame, then body frames up to the declared size, nothing interleaved on
/// this channel). Exchange and queue methods are in AmqpChannel.Topology.cs, publishing in
/// AmqpChannel.Publish.cs, consuming and acknowledgements in AmqpChannel.Delivery.cs.
/// </summary>
internal sealed partial class AmqpChannel
{
    private readonly AmqpConnection _connection;
    private ChannelState _state = ChannelState.AwaitingOpen;

    // Set once the channel is closed by either side; confirms still pending must not reach a number the client may reuse.
    private volatile bool _closed;

    // Content assembly (spec §4.2.6): which method the content belongs to and how much body is due.
    private AmqpMethodId _contentMethod;
    private ulong _bodyRemaining;

    public AmqpChannel(AmqpConnection connection, ushort number)
    {
        _connection = connection;
        Number = number;
    }

    public ushort Number { get; }

    public ValueTask HandleFrame(in Frame frame)
    {
        ValueTask pending;
        try
        {
            pending = _state == ChannelState.Closing ? HandleWhileClosing(frame) : Dispatch(frame);
        }
        catch (AmqpException ex) when (!ex.IsConnectionError)
        {
            return CloseWithErrorAsync(ex);
        }
        catch (AmqpProtocolException ex)
        {
            // Arguments that do not decode: RabbitMQ reports "cannot decode" as a hard frame error.
            throw new AmqpException(ex.ReplyCode, ex.Message);
        }

        return pending.IsCompletedSuccessfully ? pending : CloseOnSoftErrorAsync(pending);
    }

    /// <summary>Methods that wait on the broker fail later; a soft error still closes only this channel.</summary>
    private async ValueTask CloseOnSoftErrorAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (AmqpException ex) when (!ex.IsConnectionError)
        {
            await CloseWithErrorAsync(ex);
        }
    }

    private ValueTask Dispatch(in Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Method:
                if (_state == ChannelState.AwaitingContentHeader || _state == ChannelState.AwaitingContentBody)
                {
                    // rabbit_command_assembler: a method while content is due is a hard 505.
                    throw new AmqpException(
                        ReplyCode.UnexpectedFrame,
                        _state == ChannelState.AwaitingContentHeader
                            ? $"expected content header for class {_contentMethod.ClassId()}, got non content header frame instead"
                            : "expected content body, got non content body frame instead",
                        _contentMethod);
                }

                return HandleMethod(frame);
            case FrameType.Header:
                return HandleContentHeader(frame);
            case FrameType.Body:
                return HandleContentBody(frame);
            default:
                throw new AmqpException(ReplyCode.UnexpectedFrame, $"unexpected frame type {frame.Type}");
        }
    }

    private ValueTask HandleMethod(in Frame frame)
    {
        var id = frame.ReadMethodId();
        var arguments = _connection.GetMethodArguments(frame);
        if (_state == ChannelState.AwaitingOpen)
        {
            if (id != AmqpMethodId.ChannelOpen)
            {
                throw new AmqpException(ReplyCode.ChannelError, "expected 'channel.open'", id);
            }

            ChannelOpen.Read(arguments);
            _state = ChannelState.Open;
            return _connection.Output.SendMethodAsync(Number, new ChannelOpenOk());
        }

        if (id.HasContent())
        {
            // Like RabbitMQ's command assembler, a content-bearing method is acted on only once its
            // header and body have arrived, so framing errors in the content win over the method's.
            _contentMethod = id;
            _publish = id == AmqpMethodId.BasicPublish ? BasicPublish.Read(arguments) : default;
            _state = ChannelState.AwaitingContentHeader;
            return ValueTask.CompletedTask;
        }

        switch (id)
        {
            case AmqpMethodId.ChannelOpen:
                throw new AmqpException(ReplyCode.ChannelError, "second 'channel.open' seen", id);
            case AmqpMethodId.ChannelClose:
                ChannelClose.Read(arguments);
                return CloseByClientAsync();
            case AmqpMethodId.ChannelCloseOk:
                // close-ok without our close: nothing pending, RabbitMQ ignores it.
                return ValueTask.CompletedTask;
            case AmqpMethodId.ChannelFlow:
                var flow = ChannelFlow.Read(arguments);
                if (!flow.Active)
                {
                    // RabbitMQ has never supported flow(active=false) from clients (rabbit_channel).
                    throw new AmqpException(ReplyCode.NotImplemented, "active=false", id);
                }

                return _connection.Output.SendMethodAsync(Number, new ChannelFlowOk(true));
            case AmqpMethodId.ChannelFlowOk:
                ChannelFlowOk.Read(arguments);
                return ValueTask.CompletedTask;
            case AmqpMethodId.ConfirmSelect when _connection.Topology is not null:
                return SelectConfirms(arguments);
            case AmqpMethodId.TxSelect when _connection.Topology is { } topology:
                TxSelect.Read(arguments);
                return SelectTransactions(topology);
            case AmqpMethodId.TxCommit when _connection.Topology is { } topology:
                TxCommit.Read(arguments);
                return new ValueTask(CommitAsync(topology));
            case AmqpMethodId.TxRollback when _connection.Topology is not null:
                TxRollback.Read(arguments);
                return RollbackTransaction();
            case AmqpMethodId.AccessRequest:
                // access.request is a no-op kept for old clients: RabbitMQ answers ticket 1.
                AccessRequest.Read(arguments);
                return _connection.Output.SendMethodAsync(Number, new AccessRequestOk(1));
            default:
                return HandleTopologyMethod(id, arguments) ?? HandleDeliveryMethod(id, arguments) ?? HandleUnroutedMethod(id);
        }
    }

    private ValueTask HandleUnroutedMethod(AmqpMethodId id)
    {
        if (!id.IsKnown())
        {
            throw new AmqpException(ReplyCode.CommandInvalid, $"unknown method {id.ClassId()}/{id.MethodId()}", id);
        }

        if (IsServerToClientOnly(id) || id.ClassId() == AmqpClassId.Connection)
        {
            // rabbit_channel's catch-all clause: a method the server never accepts from clients.
            throw new AmqpException(ReplyCode.CommandInvalid, "unimplemented method", id);
        }

        // Publishing and consuming are built on the broker (issue 5).
        throw new AmqpException(ReplyCode.NotImplemented, $"{id.Name()} is not implemented by this gateway yet", id);
    }

    private static bool IsServerToClientOnly(AmqpMethodId id) => id is AmqpMethodId.ChannelOpenOk
        or AmqpMethodId.AccessRequestOk or AmqpMethodId.ExchangeDeclareOk or AmqpMethodId.ExchangeDeleteOk
        or AmqpMethodId.ExchangeBindOk or AmqpMethodId.ExchangeUnbindOk or AmqpMethodId.QueueDeclareOk
        or AmqpMethodId.QueueBindOk or AmqpMethodId.QueuePurgeOk or AmqpMethodId.QueueDeleteOk or AmqpMethodId.QueueUnbindOk
        or AmqpMethodId.BasicQosOk or AmqpMethodId.BasicConsumeOk or AmqpMethodId.BasicReturn or AmqpMethodId.BasicDeliver
        or AmqpMethodId.BasicGetOk or AmqpMethodId.BasicGetEmpty or AmqpMethodId.BasicRecoverOk
        or AmqpMethodId.ConfirmSelectOk or AmqpMethodId.TxSelectOk or AmqpMethodId.TxCommitOk or AmqpMethodId.TxRollbackOk;

    private ValueTask HandleContentHeader(in Frame frame)
    {
        if (_state != ChannelState.AwaitingContentHeader)
        {
            throw new AmqpException(ReplyCode.UnexpectedFrame, "expected method frame, got non method frame instead");
        }

        var payload = _connection.GetContiguousPayload(frame);
        var header = ContentHeader.Read(payload);
        if (header.ClassId != _contentMethod.ClassId())
        {
            throw new AmqpException(
                ReplyCode.UnexpectedFrame,
                $"expected content header for class {_contentMethod.ClassId()}, got one for class {header.ClassId} instead",
                _contentMethod);
        }

        _bodyRemaining = header.BodySize;
        if (_contentMethod == AmqpMethodId.BasicPublish)
        {
            BeginPublishContent(header);
        }

        if (_bodyRemaining == 0)
        {
            return CompleteContent();
        }

        _state = ChannelState.AwaitingContentBody;
        return ValueTask.CompletedTask;
    }

    private ValueTask HandleContentBody(in Frame frame)
    {
        if (_state != ChannelState.AwaitingContentBody)
        {
            throw new AmqpException(ReplyCode.UnexpectedFrame, "expected method frame, got non method frame instead");
        }

        var length = (ulong)frame.Payload.Length;
        if (length > _bodyRemaining)
        {
            throw new AmqpException(ReplyCode.FrameError, "content body is larger than its header declared", _contentMethod);
        }

        _bodyRemaining -= length;
        if (_contentMethod == AmqpMethodId.BasicPublish)
        {
            AddPublishBody(frame.Payload);
        }

        return _bodyRemaining == 0 ? CompleteContent() : ValueTask.CompletedTask;
    }

    /// <summary>The whole command (method, header, body) has arrived; act on it.</summary>
    private ValueTask CompleteContent()
    {
        _state = ChannelState.Open;
        if (_contentMethod == AmqpMethodId.BasicPublish && _connection.Topology is { } topology && _connection.Session is { } session)
        {
            byte[]? body = _contentBody;
            ulong size = body is null ? (ulong)_contentBodyFilled : (ulong)body.Length;
            (_contentBody, _contentBodyFilled) = (null, 0);
            ulong bodySize = _contentOversized ? _oversizedBodySize : size;
            if (PublishLimitWait(session) is { } limited)
            {
                return PublishWhenAllowedAsync(limited, topology, session, _publish, _contentProperties, body, bodySize);
            }

            return PublishAsync(topology, session, _publish, _contentProperties, body, bodySize);
        }

        return HandleUnroutedMethod(_contentMethod);
    }

    private ValueTask HandleWhileClosing(in Frame frame)
    {
        if (frame.Type != FrameType.Method)
        {
            return ValueTask.CompletedTask;
        }

        switch (frame.ReadMethodId())
        {
            case AmqpMethodId.ChannelCloseOk:
                _connection.RemoveChannel(Number);
                return ValueTask.CompletedTask;
            case AmqpMethodId.ChannelClose:
                // Both ends closed at once: answer the client's close, then keep waiting for the close-ok to ours
                // before the number is free (rabbit_reader does the same for a channel in `closing`). Freeing it
                // here would turn that close-ok into a 504 connection error.
                return _connection.Output.SendMethodAsync(Number, new ChannelCloseOk());
            default:
                return ValueTask.CompletedTask;
        }
    }

    private ValueTask CloseByClientAsync()
    {
        _connection.RemoveChannel(Number);
        OnClosed();
        return _connection.Output.SendMethodAsync(Number, new ChannelCloseOk());
    }

    /// <summary>A soft error: channel.close with RabbitMQ's code, text and the offending method's ids.</summary>
    private ValueTask CloseWithErrorAsync(AmqpException error)
    {
        _state = ChannelState.Closing;
        OnClosed();
        var classId = error.Method?.ClassId() ?? 0;
        var methodId = error.Method?.MethodId() ?? 0;
        var text = error.ReplyText;
        AmqpConnectionLog.ChannelError(_connection.Logger, _connection.Id, Number, (ushort)error.ReplyCode, text, classId, methodId);
        return _connection.Output.SendMethodAsync(Number, new ChannelClose((ushort)error.ReplyCode, text, classId, methodId));
    }

    /// <summary>
    /// A soft error the broker raises on its own (the consumer timeout), run on the read loop through
    /// <see cref="AmqpConnection.Post"/>: nothing if the channel is already closing or gone.
    /// </summary>
    public ValueTask CloseFromBrokerAsync(AmqpException error) =>
        _state == ChannelState.Open && !_closed ? CloseWithErrorAsync(error) : ValueTask.CompletedTask;

    /// <summary>The connection went away; the broker will requeue this channel's unacked work here.</summary>
    public void OnConnectionClosed() => OnClosed();

    private void OnClosed()
    {
        _bodyRemaining = 0;
        _closed = true;
        _transaction?.Clear();   // an open transaction dies with the channel; CloseDelivery requeues its held acks' deliveries
        CloseDelivery();
    }
}

internal enum ChannelState
{
    AwaitingOpen,
    Open,
    AwaitingContentHeader,
    AwaitingContentBody,
    /// <summary>We sent channel.close; only close and close-ok are read until close-ok.</summary>
    Closing,
}
