using Gateway.Broker.Queues;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Broker.Tests.Queues;

/// <summary>x-expires leases beyond a timer's range.</summary>
public sealed class QueueLeaseTests
{
    [Fact]
    public void The_longest_x_expires_RabbitMQ_accepts_does_not_overflow_the_timer()
    {
        // 2^32-1 ms is valid for x-expires, one more than a timer can wait (on the real clock, which enforces it).
        using var lease = new QueueLease(TimeSpan.FromMilliseconds(4294967295), TimeProvider.System, () => false, () => { });
        lease.Renew();
    }

    [Fact]
    public void A_lease_longer_than_the_timer_step_expires_at_its_full_period_and_not_before()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        int expired = 0;
        using var lease = new QueueLease(TimeSpan.FromHours(3), time, () => false, () => expired++);
        time.Advance(TimeSpan.FromHours(2));
        lease.Renew();   // used: three hours from now
        time.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(59));
        Assert.Equal(0, expired);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, expired);
    }
}
