using System.Net;
using Gateway.Broker.Traffic;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Broker.Tests.Traffic;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    [Fact]
    public void It_starts_with_a_tenth_of_a_second_and_refills_at_the_rate()
    {
        var bucket = new TokenBucket(100, _time);
        Assert.Equal(10, bucket.Available(1000));
        bucket.Take(10);
        Assert.Equal(0, bucket.Available(1000));
        Assert.Equal(TimeSpan.FromMilliseconds(10), bucket.TimeUntilAvailable());
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(3, bucket.Available(1000));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(10, bucket.Available(1000));   // never more than its capacity
    }

    [Fact]
    public void A_slow_rate_still_holds_one_token()
    {
        var bucket = new TokenBucket(0.5, _time);
        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());
        Assert.Equal(TimeSpan.FromSeconds(2), bucket.TimeUntilAvailable());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(bucket.TryTake());
    }

    [Fact]
    public void A_rate_of_zero_never_has_a_token_until_raised()
    {
        var bucket = new TokenBucket(0, _time);
        Assert.False(bucket.TryTake());
        Assert.Equal(Timeout.InfiniteTimeSpan, bucket.TimeUntilAvailable());
        bucket.SetRate(10);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(bucket.TryTake());
    }

    [Fact]
    public void A_returned_token_can_be_taken_again()
    {
        var bucket = new TokenBucket(1, _time);
        Assert.True(bucket.TryTake());
        bucket.Return();
        Assert.True(bucket.TryTake());
    }

    [Theory]
    [InlineData("10.1.2.3", null, "10.1.2.3", "x", true)]
    [InlineData("10.1.2.3", null, "10.1.2.4", "x", false)]
    [InlineData("10.1.0.0/16", null, "10.1.200.7", "x", true)]
    [InlineData("10.1.0.0/16", null, "10.2.0.1", "x", false)]
    [InlineData("127.0.0.2", null, "::ffff:127.0.0.2", "x", true)]
    [InlineData("::1", null, "::1", "x", true)]
    [InlineData(null, "billing", "10.0.0.1", "billing", true)]
    [InlineData(null, "billing", "10.0.0.1", "Billing", false)]
    [InlineData("10.0.0.0/8", "billing", "10.0.0.1", "billing", true)]
    [InlineData("10.0.0.0/8", "billing", "10.0.0.1", "reports", false)]
    [InlineData("10.0.0.0/8", "billing", "192.168.0.1", "billing", false)]
    public void A_pause_scope_matches_address_and_name(string? address, string? name, string clientAddress, string clientName, bool matches)
    {
        var scope = PauseScope.Parse(address, name);
        Assert.Equal(matches, scope.Matches(new ClientIdentity(1, IPAddress.Parse(clientAddress), clientName)));
    }

    [Fact]
    public void A_pause_scope_with_a_bad_address_is_refused()
    {
        Assert.Throws<FormatException>(() => PauseScope.Parse("10.0.0.300", null));
        Assert.False(PauseScope.Parse("10.0.0.0/8", null).Matches(ClientIdentity.Unknown));
    }
}
