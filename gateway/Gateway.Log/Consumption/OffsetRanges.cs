namespace Gateway.Log.Consumption;

/// <summary>
/// A set of offsets kept as sorted, disjoint, non-adjacent half-open ranges. Settled offsets above a
/// queue's ack watermark are few ranges in practice (acks arrive roughly in order within a
/// prefetch window), so this stays small where a set of offsets would hold one entry per message.
/// </summary>
internal sealed class OffsetRanges
{
    private static readonly List<(long Start, long End)> NoRanges = [];

    // Allocated on the first settle above the watermark: most queues never have one.
    private List<(long Start, long End)> _ranges = NoRanges;

    public int RangeCount => _ranges.Count;

    public IReadOnlyList<(long Start, long End)> Ranges => _ranges;

    public bool Contains(long offset)
    {
        int i = IndexAtOrBefore(offset);
        return i >= 0 && offset < _ranges[i].End;
    }

    /// <summary>The end of the range containing <paramref name="offset"/>, or <paramref name="offset"/> if none does.</summary>
    public long SkipFrom(long offset)
    {
        int i = IndexAtOrBefore(offset);
        return i >= 0 && offset < _ranges[i].End ? _ranges[i].End : offset;
    }

    public void Add(long start, long end)
    {
        if (start >= end)
        {
            return;
        }

        if (ReferenceEquals(_ranges, NoRanges))
        {
            _ranges = [];
        }

        // Merge with every range that overlaps or touches [start, end).
        int first = IndexAtOrBefore(start);
        if (first < 0 || _ranges[first].End < start)
        {
            first++;
        }

        int last = first;
        while (last < _ranges.Count && _ranges[last].Start <= end)
        {
            start = Math.Min(start, _ranges[last].Start);
            end = Math.Max(end, _ranges[last].End);
            last++;
        }

        _ranges.RemoveRange(first, last - first);
        _ranges.Insert(first, (start, end));
    }

    /// <summary>Removes everything below <paramref name="offset"/>.</summary>
    public void RemoveBelow(long offset)
    {
        int drop = 0;
        while (drop < _ranges.Count && _ranges[drop].End <= offset)
        {
            drop++;
        }

        _ranges.RemoveRange(0, drop);
        if (_ranges.Count > 0 && _ranges[0].Start < offset)
        {
            _ranges[0] = (offset, _ranges[0].End);
        }
    }

    /// <summary>How many offsets of [<paramref name="start"/>, <paramref name="end"/>) are in the set.</summary>
    public long CountIn(long start, long end)
    {
        long count = 0;
        foreach ((long s, long e) in _ranges)
        {
            long lo = Math.Max(s, start), hi = Math.Min(e, end);
            if (hi > lo)
            {
                count += hi - lo;
            }
        }

        return count;
    }

    private int IndexAtOrBefore(long offset)
    {
        int lo = 0, hi = _ranges.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Start <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }
}
