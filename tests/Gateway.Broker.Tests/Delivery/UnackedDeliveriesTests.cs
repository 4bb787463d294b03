using CsCheck;
using Gateway.Broker.Delivery;

namespace Gateway.Broker.Tests.Delivery;

/// <summary>The tracker against a literal transcription of RabbitMQ's rabbit_channel:collect_acks/3.</summary>
public sealed class UnackedDeliveriesTests
{
    private static readonly DispatchQueue Queue = ManualDispatch.Create().CreateQueue("q").Queue;

    // A step: deliver one more (tag is ignored), or acknowledge tag (multiple or not), or remove all.
    private static readonly Gen<(int Kind, ulong Tag, bool Multiple)> Step =
        Gen.Select(Gen.Int[0, 3], Gen.ULong[0, 12], Gen.Bool);

    [Fact]
    public void Removes_exactly_what_collect_acks_removes_and_fails_where_it_fails()
    {
        Step.Array[0, 40].Sample(
            steps =>
            {
                var tracker = new UnackedDeliveries();
                var model = new List<ulong>();
                ulong lastTag = 0;
                foreach (var (kind, tag, multiple) in steps)
                {
                    switch (kind)
                    {
                        case 0 or 1:
                            lastTag++;
                            tracker.Add(new UnackedDelivery(lastTag, Queue, (long)lastTag, Consumer: null));
                            model.Add(lastTag);
                            break;
                        case 2:
                            var expected = CollectAcks(model, tag, multiple);
                            bool known = tracker.TryRemove(tag, multiple, out var removed);
                            Assert.Equal(expected is not null, known);
                            Assert.Equal(expected ?? [], removed.Select(d => d.DeliveryTag));
                            break;
                        default:
                            Assert.Equal(model, tracker.RemoveAll().Select(d => d.DeliveryTag));
                            model.Clear();
                            break;
                    }

                    Assert.Equal(model.Count, tracker.Count);
                }
            },
            iter: 5000);
    }

    [Fact]
    public void Tags_must_increase()
    {
        var tracker = new UnackedDeliveries();
        tracker.Add(new UnackedDelivery(2, Queue, 0, Consumer: null));

        Assert.Throws<ArgumentException>(() => tracker.Add(new UnackedDelivery(2, Queue, 1, Consumer: null)));
    }

    /// <summary>
    /// collect_acks(Q, 0, true) takes everything; otherwise walk the queue oldest first: at the tag, take it
    /// (plus everything walked past if multiple) and keep the rest; past the end, "unknown delivery tag" (null).
    /// Removes from <paramref name="unacked"/> what it returns; returns the acknowledged tags oldest first.
    /// </summary>
    private static List<ulong>? CollectAcks(List<ulong> unacked, ulong tag, bool multiple)
    {
        if (tag == 0 && multiple)
        {
            var all = unacked.ToList();
            unacked.Clear();
            return all;
        }

        var acknowledged = new List<ulong>();
        var kept = new List<ulong>();
        for (int i = 0; i < unacked.Count; i++)
        {
            var current = unacked[i];
            if (current == tag)
            {
                acknowledged.Add(current);
                kept.AddRange(unacked.Skip(i + 1));
                unacked.Clear();
                unacked.AddRange(kept);
                return acknowledged;
            }

            (multiple ? acknowledged : kept).Add(current);
        }

        return null;
    }
}
