using System.IO.Pipelines;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;
using Gateway.Server.Metrics;

namespace Gateway.Server.Connections;

/// <summary>
/// The one way frames leave a connection. The read loop, the heartbeat timer and (later) the
/// dispatcher all write here, and a PipeWriter is single-writer, so every write-and-flush holds
/// an async lock. Flushing awaits the socket, so a client that stops reading slows its own
/// producers (TCP back-pressure) instead of growing server memory.
/// </summary>
internal sealed class ConnectionOutput
{
    private readonly PipeWriter _output;
    private readonly GatewayMetrics _metrics;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _lastWriteTimestamp;
    private readonly TimeProvider _timeProvider;
    private bool _completed;
    private long _bytesSent;

    public ConnectionOutput(PipeWriter output, GatewayMetrics metrics, TimeProvider timeProvider)
    {
        _output = output;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _lastWriteTimestamp = timeProvider.GetTimestamp();
    }

    /// <summary>Bytes this connection has written.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Timestamp (TimeProvider ticks) of the last frame written; heartbeats fill silences.</summary>
    public long LastWriteTimestamp => Interlocked.Read(ref _lastWriteTimestamp);

    public ValueTask SendMethodAsync<TMethod>(ushort channel, TMethod method, CancellationToken cancellationToken = default)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        WriteAsync(
            static (output, state) => FrameWriter.WriteMethod(output, state.channel, state.method),
            (channel, method),
            AmqpConstants.FrameOverhead + 4 + method.GetRequiredBufferSize(),
            cancellationToken);

    /// <summary>
    /// A content-bearing method (basic.deliver, basic.get-ok, basic.return) with its header and body
    /// frames, written under one lock so no other frame lands between them (spec §4.2.6).
    /// </summary>
    public ValueTask SendMethodWithContentAsync<TMethod>(
        ushort channel, TMethod method, ReadOnlyMemory<byte> propertyBytes, ReadOnlyMemory<byte> body, uint frameMax, CancellationToken cancellationToken = default)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        WriteAsync(
            static (output, state) =>
            {
                FrameWriter.WriteMethod(output, state.channel, state.method);
                FrameWriter.WriteContent(output, state.channel, AmqpClassId.Basic, state.propertyBytes.Span, state.body, state.frameMax);
            },
            (channel, method, propertyBytes, body, frameMax),
            ContentCommandSize(method.GetRequiredBufferSize(), propertyBytes.Length, body.Length, frameMax),
            cancellationToken);

    /// <summary>Bytes on the wire for a method frame, a content header frame and the body frames.</summary>
    private static int ContentCommandSize(int methodArguments, int propertyBytes, int body, uint frameMax)
    {
        long maxBodyPayload = frameMax == 0 ? long.MaxValue : frameMax - AmqpConstants.FrameOverhead;
        long bodyFrames = body == 0 ? 0 : ((body - 1) / maxBodyPayload) + 1;
        long size = AmqpConstants.FrameOverhead + 4 + methodArguments
            + AmqpConstants.FrameOverhead + Gateway.Protocol.Types.ContentHeader.FixedSize + propertyBytes
            + body + (bodyFrames * AmqpConstants.FrameOverhead);
        return (int)Math.Min(size, int.MaxValue);
    }

    public ValueTask SendHeartbeatAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(static (output, _) => FrameWriter.WriteHeartbeat(output), 0, AmqpConstants.FrameOverhead, cancellationToken);

    public ValueTask SendProtocolHeaderAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(static (output, _) => FrameWriter.WriteProtocolHeader(output), 0, AmqpConstants.ProtocolHeaderSize, cancellationToken);

    private async ValueTask WriteAsync<TState>(Action<PipeWriter, TState> write, TState state, int size, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_completed)
            {
                return;
            }

            write(_output, state);
            _metrics.Sent(size);
            Interlocked.Add(ref _bytesSent, size);
            Interlocked.Exchange(ref _lastWriteTimestamp, _timeProvider.GetTimestamp());
            var result = await _output.FlushAsync(cancellationToken);
            if (result.IsCompleted || result.IsCanceled)
            {
                _completed = true;
            }
        }
        catch (InvalidOperationException)
        {
            // The transport completed the pipe under us (socket gone); nothing left to send to.
            _completed = true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask CompleteAsync()
    {
        await _lock.WaitAsync();
        try
        {
            if (!_completed)
            {
                _completed = true;
                await _output.CompleteAsync();
            }
        }
        finally
        {
            _lock.Release();
        }
    }
}
