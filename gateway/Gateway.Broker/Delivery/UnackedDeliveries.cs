namespace Gateway.Broker.Delivery;

/// <summary>A delivery awaiting acknowledgement: what its delivery tag maps back to.</summary>
/// <param name="DeliveryTag">The channel's tag for it.</param>
/// <param name="Queue">The queue it came from.</param>
/// <param name="Offset">Its offset in the queue's topic, to settle or requeue.</param>
/// <param name="Consumer">The consumer it went to, whose credit it holds; null for basic.get, which takes no credit.</param>
/// <param name="DeliveredAt">When it was delivered (the dispatcher's clock, Unix ms), for the consumer timeout.</param>
internal readonly record struct UnackedDelivery(ulong DeliveryTag, DispatchQueue Queue, long Offset, Consumer? Consumer, long DeliveredAt = 0);

/// <summary>
/// One channel's deliveries awaiting acknowledgement, in delivery-tag order, with the lookup rules of
/// RabbitMQ's rabbit_channel:collect_acks/3. Not thread-safe: <see cref="DeliveryChannel"/> locks around it.
/// </summary>
/// <remarks>
/// A linked list in tag order plus a dictionary from tag to node: adding (tags only grow), removing one tag,
/// and removing the oldest ones are O(1) each, so a single ack costs the same with a million unacknowledged
/// deliveries (prefetch 0) as with ten.
/// </remarks>
internal sealed class UnackedDeliveries
{
    private readonly LinkedList<UnackedDelivery> _inTagOrder = new();
    private readonly Dictionary<ulong, LinkedListNode<UnackedDelivery>> _byTag = [];

    public int Count => _byTag.Count;

    /// <summary>Records a delivery; its tag must be greater than every tag recorded before.</summary>
    public void Add(UnackedDelivery delivery)
    {
        if (_inTagOrder.Last is { } last && last.Value.DeliveryTag >= delivery.DeliveryTag)
        {
            throw new ArgumentException(
                $"delivery tag {delivery.DeliveryTag} is not above the last one, {last.Value.DeliveryTag}", nameof(delivery));
        }

        _byTag.Add(delivery.DeliveryTag, _inTagOrder.AddLast(delivery));
    }

    /// <summary>
    /// Removes what basic.ack, basic.nack or basic.reject names, oldest first: the delivery with
    /// <paramref name="deliveryTag"/>, and with <paramref name="multiple"/> every one before it too;
    /// with <paramref name="multiple"/> and tag 0, all of them (AMQP 0-9-1, basic.ack). False, removing
    /// nothing, if the tag is not awaiting acknowledgement (never delivered, already acknowledged, or
    /// delivered no-ack): RabbitMQ then closes the channel with 406 "unknown delivery tag N", also for a
    /// multiple ack whose own tag is unknown, however many older ones there are.
    /// </summary>
    public bool TryRemove(ulong deliveryTag, bool multiple, out List<UnackedDelivery> removed)
    {
        if (multiple && deliveryTag == 0)
        {
            removed = RemoveAll();
            return true;
        }

        if (!_byTag.TryGetValue(deliveryTag, out var node))
        {
            removed = [];
            return false;
        }

        if (!multiple)
        {
            Remove(node);
            removed = [node.Value];
            return true;
        }

        removed = [];
        while (_inTagOrder.First is { } oldest && oldest.Value.DeliveryTag <= deliveryTag)
        {
            Remove(oldest);
            removed.Add(oldest.Value);
        }

        return true;
    }

    /// <summary>
    /// Puts back deliveries taken out by <see cref="TryRemove"/> (tx.rollback, or a channel closing with an
    /// uncommitted transaction): each goes to its place in tag order. O(n) in the deliveries recorded.
    /// </summary>
    public void Restore(IEnumerable<UnackedDelivery> deliveries)
    {
        List<UnackedDelivery> merged = [.. _inTagOrder, .. deliveries];
        if (merged.Count == _byTag.Count)
        {
            return;
        }

        merged.Sort((a, b) => a.DeliveryTag.CompareTo(b.DeliveryTag));
        _inTagOrder.Clear();
        _byTag.Clear();
        foreach (UnackedDelivery delivery in merged)
        {
            Add(delivery);
        }
    }

    /// <summary>The deliveries awaiting acknowledgement, oldest first.</summary>
    public IEnumerable<UnackedDelivery> InTagOrder => _inTagOrder;

    /// <summary>Removes every delivery, oldest first (basic.recover, channel close).</summary>
    public List<UnackedDelivery> RemoveAll()
    {
        var all = new List<UnackedDelivery>(_byTag.Count);
        all.AddRange(_inTagOrder);
        _inTagOrder.Clear();
        _byTag.Clear();
        return all;
    }

    private void Remove(LinkedListNode<UnackedDelivery> node)
    {
        _inTagOrder.Remove(node);
        _byTag.Remove(node.Value.DeliveryTag);
    }
}
