namespace Gateway.Broker.Traffic;

/// <summary>
/// What the controller wants of one queue's consumption on this gateway: pauses (all consumers, or those of
/// matching connections) and this gateway's share of the queue's consume rate limit. Applied at the
/// dispatch point (<see cref="Delivery.DispatchQueue.ApplyControl"/>). Immutable.
/// </summary>
public sealed class ConsumeControl
{
    public ConsumeControl(IReadOnlyList<PauseScope> pauses, double? limitPerSecond)
    {
        PausesEveryone = pauses.Any(p => p.IsEveryone);
        Scopes = PausesEveryone ? [] : [.. pauses];
        LimitPerSecond = limitPerSecond;
    }

    /// <summary>No pause and no limit.</summary>
    public static ConsumeControl None { get; } = new([], null);

    /// <summary>An unscoped pause is in force: the queue delivers to nobody and basic.get finds it empty.</summary>
    public bool PausesEveryone { get; }

    /// <summary>The scoped pauses (empty when <see cref="PausesEveryone"/>, which covers them).</summary>
    public IReadOnlyList<PauseScope> Scopes { get; }

    /// <summary>Deliveries a second this gateway makes from the queue (consumers and basic.get together); null: no limit.</summary>
    public double? LimitPerSecond { get; }

    public bool IsNone => !PausesEveryone && Scopes.Count == 0 && LimitPerSecond is null;

    /// <summary>Whether a consumer (or basic.get) of a channel of <paramref name="client"/> is held.</summary>
    public bool Pauses(ClientIdentity client)
    {
        if (PausesEveryone)
        {
            return true;
        }

        foreach (PauseScope scope in Scopes)
        {
            if (scope.Matches(client))
            {
                return true;
            }
        }

        return false;
    }
}
