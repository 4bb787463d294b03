namespace Gateway.Log.Consumption;

/// <summary>
/// A queue's consumption state over its topic (DESIGN.md, "The mapping"):
/// <list type="bullet">
/// <item>the ack <see cref="Watermark"/>: every offset below it is settled;</item>
/// <item>above it, each offset below <see cref="Cursor"/> is exactly one of settled (kept as ranges),
/// in flight (delivered, unsettled) or requeued (ready again, delivered before the new ones, in
/// offset order, as RabbitMQ puts a requeued message back at its position);</item>
/// <item>offsets from the cursor to the topic's end are ready, except ranges settled while the
/// cursor was behind them (after a restart, or by a purge).</item>
/// </list>
/// Only settles are journaled (<see cref="StateJournal"/>); in-flight state is deliberately
/// volatile: after a crash every unsettled message is ready again, flagged redelivered if it may
/// have been delivered. All members are thread-safe (one lock per queue).
/// </summary>
internal sealed class TopicConsumption(long topicId, StateJournal journal)
{
    private readonly Lock _lock = new();
    private readonly OffsetRanges _settled = new();
    private HashSet<long>? _inFlight;
    private SortedSet<long>? _requeued;
    private Dictionary<long, int>? _returns;   // offset → times requeued, for offsets requeued at least once and not yet settled
    private long _watermark;
    private long _cursor;
    private long _possiblyDelivered;

    public long TopicId { get; } = topicId;

    public long Watermark
    {
        get { lock (_lock) { return _watermark; } }
    }

    public long Cursor
    {
        get { lock (_lock) { return _cursor; } }
    }

    /// <summary>Delivered and not yet settled or requeued.</summary>
    public int InFlight
    {
        get { lock (_lock) { return _inFlight?.Count ?? 0; } }
    }

    /// <summary>
    /// How many times <paramref name="offset"/> was requeued since this process started (quorum queues'
    /// delivery count). Volatile like the in-flight state: a restart starts every count again.
    /// </summary>
    public int Returns(long offset)
    {
        lock (_lock)
        {
            return _returns is not null && _returns.TryGetValue(offset, out int returns) ? returns : 0;
        }
    }

    /// <summary>Whether <paramref name="offset"/> (below the topic's end) is ready: requeued, or not yet taken and not settled.</summary>
    public bool IsReady(long offset)
    {
        lock (_lock)
        {
            return _requeued?.Contains(offset) == true || (offset >= _cursor && !_settled.Contains(offset));
        }
    }

    /// <summary>Ready for delivery given the topic ends at <paramref name="end"/> (basic.get-ok and queue.declare-ok counts).</summary>
    public long Ready(long end)
    {
        lock (_lock)
        {
            long fresh = Math.Max(0, end - _cursor) - _settled.CountIn(_cursor, end);
            return fresh + (_requeued?.Count ?? 0);
        }
    }

    /// <summary>
    /// Takes the next ready offset below <paramref name="end"/> (a requeued one first) and marks it in
    /// flight. <paramref name="redelivered"/> is true if it was delivered before (requeued, or below
    /// the journaled cursor after a restart), which is what AMQP's redelivered flag means.
    /// </summary>
    public bool TryTake(long end, out long offset, out bool redelivered)
    {
        lock (_lock)
        {
            if (_requeued is { Count: > 0 })
            {
                offset = _requeued.Min;
                _requeued.Remove(offset);
                (_inFlight ??= []).Add(offset);
                redelivered = true;
                return true;
            }

            long next = _settled.SkipFrom(_cursor);
            if (next >= end)
            {
                _cursor = Math.Max(_cursor, Math.Min(next, end));
                offset = -1;
                redelivered = false;
                return false;
            }

            offset = next;
            _cursor = next + 1;
            (_inFlight ??= []).Add(offset);
            redelivered = offset < _possiblyDelivered;
            if (_cursor > _possiblyDelivered)
            {
                journal.CursorMoved(this);
            }

            return true;
        }
    }

    /// <summary>
    /// Takes the offset <see cref="TryTake"/> would take, but only if <paramref name="accept"/> says so:
    /// the look and the take are one step under the lock, so no other taker can slip in between.
    /// </summary>
    public bool TryTakeIf(long end, Func<long, bool> accept, out long offset, out bool redelivered)
    {
        lock (_lock)
        {
            long candidate = _requeued is { Count: > 0 } ? _requeued.Min : _settled.SkipFrom(_cursor);
            if ((candidate >= end && _requeued is not { Count: > 0 }) || !accept(candidate))
            {
                offset = -1;
                redelivered = false;
                return false;
            }

            return TryTake(end, out offset, out redelivered);   // the lock is re-entrant; takes exactly the candidate
        }
    }

    /// <summary>Settles an in-flight offset (ack, or reject/nack without requeue). False if it was not in flight.</summary>
    public bool Settle(long offset)
    {
        lock (_lock)
        {
            if (_inFlight is null || !_inFlight.Remove(offset))
            {
                return false;
            }

            journal.RecordSettled(TopicId, offset, offset + 1);
            MarkSettled(offset, offset + 1);
            _returns?.Remove(offset);
            return true;
        }
    }

    /// <summary>Makes an in-flight offset ready again (nack/reject with requeue, channel closed). False if it was not in flight.</summary>
    public bool Requeue(long offset)
    {
        lock (_lock)
        {
            if (_inFlight is null || !_inFlight.Remove(offset))
            {
                return false;
            }

            (_requeued ??= []).Add(offset);
            _returns ??= [];
            _returns[offset] = _returns.GetValueOrDefault(offset) + 1;
            return true;
        }
    }

    /// <summary>Settles every ready message below <paramref name="end"/> (queue.purge: in-flight ones stay). Returns how many.</summary>
    public long Purge(long end)
    {
        lock (_lock)
        {
            long purged = 0;
            if (_requeued is not null)
            {
                foreach (long offset in _requeued)
                {
                    journal.RecordSettled(TopicId, offset, offset + 1);
                    MarkSettled(offset, offset + 1);
                    _returns?.Remove(offset);
                    purged++;
                }

                _requeued.Clear();
            }

            if (_cursor < end)
            {
                purged += end - _cursor - _settled.CountIn(_cursor, end);
                journal.RecordSettled(TopicId, _cursor, end);
                MarkSettled(_cursor, end);
                _cursor = end;
            }

            return purged;
        }
    }

    /// <summary>
    /// Retention with an explicit discard policy dropped everything below <paramref name="start"/>:
    /// treat it as settled. In-flight offsets stay in flight (their settle is then a no-op for the log).
    /// </summary>
    public void DiscardBelow(long start)
    {
        lock (_lock)
        {
            if (start <= _watermark)
            {
                return;
            }

            journal.RecordSettled(TopicId, _watermark, start);
            _requeued?.RemoveWhere(o => o < start);
            if (_returns is not null)
            {
                foreach (long offset in _returns.Keys.Where(o => o < start).ToList())
                {
                    _returns.Remove(offset);
                }
            }
            _cursor = Math.Max(_cursor, start);
            MarkSettled(_watermark, start);
        }
    }

    /// <summary>Recovery: applies a checkpoint or a journaled settle.</summary>
    public void RestoreSettled(long start, long end)
    {
        lock (_lock)
        {
            MarkSettled(Math.Max(start, _watermark), end);
            _cursor = _watermark;
        }
    }

    /// <summary>Recovery: offsets below <paramref name="cursor"/> may have been delivered before the restart.</summary>
    public void RestoreCursor(long cursor)
    {
        lock (_lock)
        {
            _possiblyDelivered = Math.Max(_possiblyDelivered, cursor);
        }
    }

    /// <summary>Recovery: the topic ends at <paramref name="end"/> (a checkpoint may be ahead of a log that lost an unsynced tail).</summary>
    public void ClampTo(long end)
    {
        lock (_lock)
        {
            _settled.RemoveBelow(_watermark);
            if (_watermark > end)
            {
                _watermark = end;
            }

            _cursor = _watermark;
        }
    }

    /// <summary>Checkpoint: watermark, settled ranges above it and the cursor (written as the possibly-delivered mark).</summary>
    public ConsumptionSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new ConsumptionSnapshot(_watermark, Math.Max(_cursor, _possiblyDelivered), [.. _settled.Ranges]);
        }
    }

    private void MarkSettled(long start, long end)
    {
        // An offset already below the watermark (discarded by retention while in flight) adds nothing.
        _settled.Add(Math.Max(start, _watermark), end);
        long advanced = _settled.SkipFrom(_watermark);
        if (advanced > _watermark)
        {
            _watermark = advanced;
            _settled.RemoveBelow(advanced);
        }

        _cursor = Math.Max(_cursor, _watermark);
    }
}

/// <summary>A queue's durable consumption state at a checkpoint.</summary>
internal sealed record ConsumptionSnapshot(long Watermark, long Cursor, IReadOnlyList<(long Start, long End)> Settled);
