using Gateway.Server.Publishing;
using TestSupport;

namespace Gateway.Server.Tests.Publishing;

/// <summary>Coalescing of publisher confirms: what goes on the wire for each order of settling.</summary>
public sealed class PublisherConfirmsTests
{
    private readonly List<string> _sent = [];
    private readonly PublisherConfirms _confirms;

    public PublisherConfirmsTests()
    {
        _confirms = new PublisherConfirms(
            (tag, multiple) => { lock (_sent) { _sent.Add(multiple ? $"ack {tag}+" : $"ack {tag}"); } },
            tag => { lock (_sent) { _sent.Add($"nack {tag}"); } });
    }

    private string[] Sent()
    {
        lock (_sent)
        {
            return [.. _sent];
        }
    }

    [Fact]
    public void A_lone_publish_is_confirmed_at_once_with_a_plain_ack()
    {
        _confirms.Settle(1, stored: true, moreInFlight: false);
        _confirms.Settle(2, stored: true, moreInFlight: false);
        Assert.Equal(["ack 1", "ack 2"], Sent());
    }

    [Fact]
    public void A_burst_settled_out_of_order_leaves_as_one_multiple_ack()
    {
        _confirms.Settle(3, stored: true, moreInFlight: true);
        _confirms.Settle(1, stored: true, moreInFlight: true);
        _confirms.Settle(2, stored: true, moreInFlight: true);
        _confirms.Flush();
        Assert.Equal(["ack 3+"], Sent());
    }

    [Fact]
    public void An_ack_never_covers_a_number_that_has_no_outcome_yet()
    {
        _confirms.Settle(1, stored: true, moreInFlight: true);
        _confirms.Settle(3, stored: true, moreInFlight: true);
        _confirms.Flush();
        Assert.Equal(["ack 1"], Sent());   // 3 waits for 2: "multiple" through 3 would confirm 2 too early

        _confirms.Settle(2, stored: true, moreInFlight: false);
        Assert.Equal(["ack 1", "ack 3+"], Sent());
    }

    [Fact]
    public void A_refused_message_gets_its_own_nack_and_the_acks_around_it_stop_short_of_it()
    {
        _confirms.Settle(1, stored: true, moreInFlight: true);
        _confirms.Settle(2, stored: true, moreInFlight: true);
        _confirms.Settle(3, stored: false, moreInFlight: true);
        _confirms.Settle(4, stored: true, moreInFlight: true);
        _confirms.Settle(5, stored: true, moreInFlight: true);
        _confirms.Settle(6, stored: false, moreInFlight: false);
        Assert.Equal(["ack 2+", "nack 3", "ack 5+", "nack 6"], Sent());
    }

    [Fact]
    public async Task Settling_while_more_are_in_flight_leaves_the_send_to_one_queued_flush()
    {
        // Highest first: whatever flushes run meanwhile find 1 missing and send nothing.
        for (ulong tag = 100; tag >= 1; tag--)
        {
            _confirms.Settle(tag, stored: true, moreInFlight: true);
        }

        await GatewayFixture.WaitUntilAsync(() => Sent().Length > 0);
        await Task.Delay(50);
        Assert.Equal(["ack 100+"], Sent());
    }
}
