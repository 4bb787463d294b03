namespace Gateway.Delivery.Bench;

/// <summary>
/// What one phase's cold messages did, by sequence number: publish → delivery (the measure), publish → confirm,
/// and delivery − confirm of the same message. On the gateway a queue is woken when the append is durable, which
/// is also when the confirm goes out, so delivery − confirm is the dispatch and the trip to the consumer alone,
/// without the write path. (RabbitMQ delivers before its fsync, so there it is mostly negative.)
/// </summary>
internal sealed class ColdPhase(int phase, int capacity)
{
    private readonly long[] _confirmedAt = new long[capacity];
    private readonly long[] _deliveredAt = new long[capacity];

    public int Phase { get; } = phase;

    public int Capacity { get; } = capacity;

    public LatencySamples Delivery { get; } = new();

    public LatencySamples Confirm { get; } = new();

    public void Delivered(int sequence, long publishedAt, long deliveredAt)
    {
        if ((uint)sequence < (uint)Capacity)
        {
            Interlocked.CompareExchange(ref _deliveredAt[sequence], deliveredAt, 0);
        }

        Delivery.Add(LatencySamples.Milliseconds(publishedAt, deliveredAt), sequence);
    }

    public void Confirmed(int sequence, long publishedAt, long confirmedAt)
    {
        if ((uint)sequence < (uint)Capacity)
        {
            Volatile.Write(ref _confirmedAt[sequence], confirmedAt);
        }

        Confirm.Add(LatencySamples.Milliseconds(publishedAt, confirmedAt));
    }

    public Percentiles DeliveryAfterConfirm()
    {
        var samples = new LatencySamples();
        for (int i = 0; i < Capacity; i++)
        {
            long confirmed = Volatile.Read(ref _confirmedAt[i]);
            long delivered = Volatile.Read(ref _deliveredAt[i]);
            if (confirmed != 0 && delivered != 0)
            {
                samples.Add(LatencySamples.Milliseconds(confirmed, delivered));
            }
        }

        return samples.Summarise();
    }
}
