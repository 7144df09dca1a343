using Cleave.Runtime.Links;

namespace Cleave.Runtime.Tests;

public sealed class LinkShaperTests
{
    [Fact]
    public void Uplink_delay_is_serialization_plus_half_the_round_trip_and_back_to_back_sends_queue()
    {
        var shaper = new LinkShaper(new LinkProfile("test", 80, 800, 100, 0)); // 10,000 bytes/s up
        var first = shaper.UplinkDelay(10_000);
        var second = shaper.UplinkDelay(10_000);
        var small = new LinkShaper(new LinkProfile("test", 80, 800, 100, 0)).UplinkDelay(1_000);
        Assert.InRange(first.TotalMilliseconds, 1000 + 50 - 20, 1000 + 50 + 1);
        Assert.InRange(second.TotalMilliseconds, 2000 + 50 - 40, 2000 + 50 + 1); // waits behind the first
        Assert.InRange(small.TotalMilliseconds, 100 + 50 - 2, 100 + 50 + 1); // a message under one packet still pays its bytes
        Assert.InRange(shaper.DownlinkDelay(1_000).TotalMilliseconds, 50 + 1_000 * 8 / 800.0 - 1, 50 + 1_000 * 8 / 800.0 + 1);
    }

    [Fact]
    public void Loss_adds_whole_retransmission_timeouts_and_never_drops()
    {
        var shaper = new LinkShaper(new LinkProfile("lossy", double.PositiveInfinity, double.PositiveInfinity, 100, 0.3), seed: 1);
        Assert.Equal(300, shaper.RetransmissionTimeout.TotalMilliseconds);
        int delayed = 0;
        for (int i = 0; i < 200; i++)
        {
            double extra = shaper.UplinkDelay(100).TotalMilliseconds - 50;
            Assert.Equal(0, extra % 300, 6);
            if (extra > 0) delayed++;
        }
        Assert.InRange(delayed, 40, 80); // about 30% of single-segment messages
    }

    [Fact]
    public void Expected_loss_delay_is_the_mean_of_what_the_emulator_draws()
    {
        // No rate limit, so each draw is half the RTT plus its retransmission timeouts and draws do not queue.
        var link = new LinkProfile("lossy", double.PositiveInfinity, double.PositiveInfinity, 80, 0.05);
        var shaper = new LinkShaper(link, seed: 11);
        const long bytes = 10_000; // 7 segments
        const int draws = 20_000;
        double sum = 0;
        for (int i = 0; i < draws; i++) sum += (shaper.UplinkDelay(bytes) - TimeSpan.FromMilliseconds(40)).TotalMilliseconds;
        double expected = LinkShaper.ExpectedLossDelay(link, bytes).TotalMilliseconds;
        Assert.Equal(7 * (0.05 / 0.95) * 240, expected, 3); // TimeSpan ticks // RTO = max(200, 3 x 80 ms)
        Assert.InRange(sum / draws, 0.95 * expected, 1.05 * expected);
        Assert.Equal(TimeSpan.Zero, LinkShaper.ExpectedLossDelay(link with { Loss = 0 }, bytes));
    }

    [Fact]
    public void Unlimited_link_adds_nothing()
    {
        var shaper = new LinkShaper(LinkProfile.Unlimited);
        Assert.True(shaper.IsUnlimited);
        Assert.Equal(TimeSpan.Zero, shaper.UplinkDelay(1 << 20));
        Assert.Equal(TimeSpan.Zero, shaper.DownlinkDelay(1 << 20));
    }

    [Fact]
    public void Token_bucket_refills_at_its_rate_up_to_the_burst()
    {
        var bucket = new TokenBucket(100_000, 1_000);
        Assert.Equal(TimeSpan.Zero, bucket.Reserve(1_000));
        // At most the 1,000-byte burst can have refilled in between: 9,000 to 10,000 bytes of debt at 100 kB/s.
        Assert.InRange(bucket.Reserve(10_000).TotalMilliseconds, 89.99, 100.01);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0, 10));
    }
}
