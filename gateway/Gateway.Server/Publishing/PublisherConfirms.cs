namespace Gateway.Server.Publishing;

/// <summary>
/// A channel's publisher confirms in confirm mode, coalesced as RabbitMQ coalesces them
/// (rabbit_channel:coalesce_and_send): the settled sequence numbers below the lowest one still
/// unsettled are acknowledged by one <c>basic.ack</c> with <c>multiple=true</c> (a run of one by a plain
/// ack); a refused message gets its own <c>basic.nack</c>, and an ack never covers a nacked number. One ack per burst instead of one
/// per message saves the gateway a frame per message and the client as much work, which matters when a
/// fast publisher shares the machine with thousands of trickling ones.
/// </summary>
/// <remarks>
/// Appends complete out of order (their continuations run on the thread pool), so outcomes wait
/// here until every lower number has one. <see cref="Settle"/> sends at once when nothing else of the
/// channel is in flight (a trickling publisher never waits for a batch); otherwise it leaves a single
/// queued flush that runs after the completions already queued, so a burst settled by one group commit
/// leaves as one frame. Frames are handed to the connection under this object's lock, so an ack with a
/// higher number can never overtake a lower one on the wire.
/// </remarks>
internal sealed class PublisherConfirms
{
    private readonly Lock _lock = new();
    // sequence number -> stored (ack) or refused (nack), and when its publish arrived; not yet sent
    private readonly Dictionary<ulong, (bool Stored, long ArrivedTimestamp)> _settled = [];
    private readonly Action<ulong, bool> _sendAck;
    private readonly Action<ulong> _sendNack;
    private readonly Action<long>? _acked;
    private ulong _nextToSend = 1;   // lowest sequence number whose confirm has not been sent
    private bool _flushQueued;

    /// <param name="sendAck">Enqueues basic.ack(deliveryTag, multiple) without waiting; called under the lock.</param>
    /// <param name="sendNack">Enqueues basic.nack(deliveryTag, multiple=false, requeue=false); called under the lock.</param>
    /// <param name="acked">
    /// Told, once per message, the arrival timestamp (<see cref="TimeProvider.GetTimestamp"/>) of each message whose ack
    /// goes out in this flush, for the confirm latency histogram; called under the lock, so it must be cheap.
    /// </param>
    public PublisherConfirms(Action<ulong, bool> sendAck, Action<ulong> sendNack, Action<long>? acked = null)
    {
        _sendAck = sendAck;
        _sendNack = sendNack;
        _acked = acked;
    }

    /// <summary>
    /// Records the outcome of <paramref name="sequence"/>. <paramref name="moreInFlight"/> says whether
    /// other appends of the channel are still waiting for the log: if not, everything sendable goes now.
    /// <paramref name="arrivedTimestamp"/> is when the publish arrived, handed back to the acked callback.
    /// </summary>
    public void Settle(ulong sequence, bool stored, bool moreInFlight, long arrivedTimestamp = 0)
    {
        bool queueFlush = false;
        lock (_lock)
        {
            _settled[sequence] = (stored, arrivedTimestamp);
            if (!moreInFlight)
            {
                SendSettledPrefix();
            }
            else if (!_flushQueued)
            {
                _flushQueued = true;
                queueFlush = true;
            }
        }

        if (queueFlush)
        {
            // preferLocal: false puts the flush at the end of the global queue, behind the continuations the
            // log writer queued for the rest of the group commit, so it finds them settled.
            ThreadPool.UnsafeQueueUserWorkItem(static confirms => confirms.Flush(), this, preferLocal: false);
        }
    }

    /// <summary>Sends whatever can be sent now.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _flushQueued = false;
            SendSettledPrefix();
        }
    }

    private void SendSettledPrefix()
    {
        ulong runStart = 0;   // first number of the run of stored messages not yet acked, 0 for none
        while (_settled.Remove(_nextToSend, out (bool Stored, long ArrivedTimestamp) outcome))
        {
            if (outcome.Stored)
            {
                runStart = runStart == 0 ? _nextToSend : runStart;
                _acked?.Invoke(outcome.ArrivedTimestamp);
            }
            else
            {
                SendAckRun(runStart, _nextToSend - 1);
                runStart = 0;
                _sendNack(_nextToSend);
            }

            _nextToSend++;
        }

        SendAckRun(runStart, _nextToSend - 1);
    }

    private void SendAckRun(ulong first, ulong last)
    {
        if (first != 0)
        {
            _sendAck(last, last > first);
        }
    }
}
