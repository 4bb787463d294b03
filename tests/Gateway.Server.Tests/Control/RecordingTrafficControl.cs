using System.Collections.Concurrent;
using System.Diagnostics;
using Controller.Contracts;
using Gateway.Server.Control;

namespace Gateway.Server.Tests.Control;

/// <summary>
/// An <see cref="ITrafficControl"/> that records every applied state (with when it arrived) and answers
/// snapshots from a canned list (the last one repeats), else an empty snapshot taken now.
/// </summary>
internal sealed class RecordingTrafficControl : ITrafficControl
{
    private readonly ConcurrentQueue<TrafficSnapshot> _snapshots;
    private volatile ControlState _current = ControlState.Empty;
    private TrafficSnapshot? _last;

    public RecordingTrafficControl(params TrafficSnapshot[] snapshots)
    {
        _snapshots = new ConcurrentQueue<TrafficSnapshot>(snapshots);
    }

    public ConcurrentQueue<(ControlState State, long Timestamp)> Applied { get; } = new();

    public ControlState Current => _current;

    /// <summary>Apply throws for every state with this ETag (a state the gateway cannot take).</summary>
    public string? RefusedETag { get; set; }

    public void Apply(ControlState state)
    {
        if (state.ETag == RefusedETag)
        {
            throw new InvalidOperationException("state refused on purpose");
        }

        _current = state;
        Applied.Enqueue((state, Stopwatch.GetTimestamp()));
    }

    /// <summary>How many of the next snapshots throw (a gateway-side failure).</summary>
    public int FailingSnapshots { get; set; }

    public TrafficSnapshot Snapshot()
    {
        if (FailingSnapshots > 0)
        {
            FailingSnapshots--;
            throw new InvalidOperationException("snapshot failed on purpose");
        }

        if (_snapshots.TryDequeue(out var next))
        {
            _last = next;
        }

        return _last ?? new TrafficSnapshot(DateTimeOffset.UtcNow, 0, 0, [], [], []);
    }

    /// <summary>When the state with <paramref name="eTag"/> was applied (Stopwatch timestamp), null if it was not.</summary>
    public long? AppliedAt(string eTag) => Applied.Where(a => a.State.ETag == eTag).Select(a => (long?)a.Timestamp).FirstOrDefault();
}
