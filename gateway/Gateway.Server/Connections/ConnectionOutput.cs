using System.Buffers;
using System.IO.Pipelines;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;
using Gateway.Server.Metrics;

namespace Gateway.Server.Connections;

/// <summary>
/// The one way frames leave a connection. The read loop, the heartbeat timer, publisher confirms
/// and the delivery dispatcher all write here. Frames are encoded under a short lock into a pending
/// buffer — so a writer never waits for the socket, which the dispatcher's workers must not — and a
/// single writer loop, the only code that touches the PipeWriter (PipeWriters are single-writer),
/// moves each batch to the transport and flushes it.
/// </summary>
/// <remarks>
/// Back-pressure: the <c>Send…Async</c> methods complete when their bytes are flushed, so the read
/// loop waits for a client that stops reading (TCP back-pressure) instead of buffering replies;
/// the non-waiting <see cref="Enqueue{TState}"/> callers watch <see cref="BufferedBytes"/> and pause
/// themselves (the dispatcher pauses a channel's deliveries).
/// </remarks>
internal sealed class ConnectionOutput
{
    /// <summary>A spare buffer larger than this after a big message is dropped rather than kept for the connection's life.</summary>
    private const int KeepBufferBytes = 1024 * 1024;

    private readonly PipeWriter _output;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new();
    private ArrayBufferWriter<byte>? _spare = new();
    private TaskCompletionSource _pendingFlushed = NewRound();
    private Task _writer = Task.CompletedTask;
    private bool _writerRunning;
    private bool _completed;
    private long _lastWriteTimestamp;
    private long _bytesSent;
    private long _bufferedBytes;

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

    /// <summary>Bytes encoded but not yet flushed to the transport.</summary>
    public long BufferedBytes => Interlocked.Read(ref _bufferedBytes);

    public ValueTask SendMethodAsync<TMethod>(ushort channel, TMethod method, CancellationToken cancellationToken = default)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        new(Enqueue(static (output, state) => FrameWriter.WriteMethod(output, state.channel, state.method), (channel, method)).WaitAsync(cancellationToken));

    /// <summary>
    /// A content-bearing method (basic.deliver, basic.get-ok, basic.return) with its header and body
    /// frames, encoded together so no other frame lands between them (spec §4.2.6).
    /// </summary>
    public ValueTask SendMethodWithContentAsync<TMethod>(
        ushort channel, TMethod method, ReadOnlyMemory<byte> propertyBytes, ReadOnlyMemory<byte> body, uint frameMax, CancellationToken cancellationToken = default)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        new(EnqueueMethodWithContent(channel, method, propertyBytes, body, frameMax).WaitAsync(cancellationToken));

    /// <summary>The same without waiting for the flush (delivery targets, which must not block).</summary>
    public Task EnqueueMethodWithContent<TMethod>(ushort channel, TMethod method, ReadOnlyMemory<byte> propertyBytes, ReadOnlyMemory<byte> body, uint frameMax)
        where TMethod : struct, IAmqpMethod<TMethod> =>
        Enqueue(
            static (output, state) =>
            {
                FrameWriter.WriteMethod(output, state.channel, state.method);
                FrameWriter.WriteContent(output, state.channel, AmqpClassId.Basic, state.propertyBytes.Span, state.body, state.frameMax);
            },
            (channel, method, propertyBytes, body, frameMax));

    public ValueTask SendHeartbeatAsync(CancellationToken cancellationToken = default) =>
        new(Enqueue(static (output, _) => FrameWriter.WriteHeartbeat(output), 0).WaitAsync(cancellationToken));

    public ValueTask SendProtocolHeaderAsync(CancellationToken cancellationToken = default) =>
        new(Enqueue(static (output, _) => FrameWriter.WriteProtocolHeader(output), 0).WaitAsync(cancellationToken));

    /// <summary>
    /// Encodes frames into the pending buffer without waiting; returns a task that completes once they
    /// are flushed (or the connection can no longer write). Never blocks on the socket.
    /// </summary>
    public Task Enqueue<TState>(Action<IBufferWriter<byte>, TState> write, TState state)
    {
        Task flushed;
        bool startWriter = false;
        int size;
        lock (_lock)
        {
            if (_completed)
            {
                return Task.CompletedTask;
            }

            int before = _pending.WrittenCount;
            write(_pending, state);
            size = _pending.WrittenCount - before;
            flushed = _pendingFlushed.Task;
            if (!_writerRunning)
            {
                _writerRunning = true;
                startWriter = true;
            }
        }

        _metrics.Sent(size);
        Interlocked.Add(ref _bytesSent, size);
        Interlocked.Add(ref _bufferedBytes, size);
        Interlocked.Exchange(ref _lastWriteTimestamp, _timeProvider.GetTimestamp());
        if (startWriter)
        {
            _writer = Task.Run(WriteLoopAsync);
        }

        return flushed;
    }

    public async ValueTask CompleteAsync()
    {
        // Let the writer finish what is pending (a close-ok, a connection.close) before completing the pipe.
        await _writer.ConfigureAwait(false);
        TaskCompletionSource round;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            round = _pendingFlushed;
        }

        round.TrySetResult();
        await _output.CompleteAsync().ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            ArrayBufferWriter<byte> batch;
            TaskCompletionSource round;
            lock (_lock)
            {
                if (_pending.WrittenCount == 0 || _completed)
                {
                    _writerRunning = false;
                    return;
                }

                batch = _pending;
                _pending = _spare ?? new ArrayBufferWriter<byte>();
                _spare = null;
                round = _pendingFlushed;
                _pendingFlushed = NewRound();
            }

            bool open = await WriteBatchAsync(batch).ConfigureAwait(false);
            Interlocked.Add(ref _bufferedBytes, -batch.WrittenCount);
            if (batch.Capacity <= KeepBufferBytes)
            {
                batch.ResetWrittenCount();
                lock (_lock)
                {
                    _spare = batch;
                }
            }

            round.TrySetResult();
            if (!open)
            {
                TaskCompletionSource last;
                lock (_lock)
                {
                    _completed = true;
                    _writerRunning = false;
                    last = _pendingFlushed;
                }

                last.TrySetResult();
                return;
            }
        }
    }

    /// <summary>Writes and flushes one batch; false once the transport is gone.</summary>
    private async ValueTask<bool> WriteBatchAsync(ArrayBufferWriter<byte> batch)
    {
        try
        {
            _output.Write(batch.WrittenSpan);
            FlushResult result = await _output.FlushAsync().ConfigureAwait(false);
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The transport completed the pipe under us (socket gone); nothing left to send to.
            return false;
        }
    }

    private static TaskCompletionSource NewRound() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
