using Cleave.Runtime.Links;

namespace Cleave.Runtime.Tests;

public sealed class BitErrorChannelTests
{
    private static (byte[] Bytes, long Flips) Run(BitErrorModel model, int seed, int messages = 200, int size = 1000)
    {
        var channel = new BitErrorChannel(model, seed);
        var all = new byte[messages * size];
        long flips = 0;
        for (int m = 0; m < messages; m++) flips += channel.Damage(all.AsSpan(m * size, size));
        return (all, flips);
    }

    [Theory]
    [InlineData(1e-3, 0)]
    [InlineData(1e-3, 64)]
    public void TheSameSeedGivesTheSameFlipsAndAnotherSeedDifferentOnes(double ber, double burst)
    {
        var model = new BitErrorModel(ber, burst);
        var (a, flipsA) = Run(model, seed: 5);
        var (b, flipsB) = Run(model, seed: 5);
        var (c, _) = Run(model, seed: 6);
        Assert.Equal(a, b);
        Assert.Equal(flipsA, flipsB);
        Assert.NotEqual(a, c);
        long counted = a.Sum(x => (long)System.Numerics.BitOperations.PopCount(x));
        Assert.Equal(flipsA, counted); // the count returned is the bits actually changed (the message started all zero)
    }

    [Theory]
    [InlineData(1e-4, 0)]
    [InlineData(1e-3, 0)]
    [InlineData(1e-3, 32)]
    public void TheMeanErrorRateIsTheOneAskedFor(double ber, double burst)
    {
        // 1.6 M bits (burst: 16 M): independent flips are Poisson (sd ~ 1/sqrt(mean)); bursts vary far more.
        int messages = burst == 0 ? 200 : 2000;
        var (_, flips) = Run(new BitErrorModel(ber, burst), seed: 11, messages);
        double measured = flips / (8.0 * 1000 * messages);
        Assert.InRange(measured / ber, burst == 0 ? 0.8 : 0.7, burst == 0 ? 1.2 : 1.3);
    }

    [Fact]
    public void BurstsClusterTheirErrors()
    {
        // The same mean rate: bursts leave far more 1000-byte messages untouched than independent flips do.
        static int Clean(BitErrorModel model)
        {
            var channel = new BitErrorChannel(model, 3);
            int clean = 0;
            for (int m = 0; m < 2000; m++) if (channel.Damage(new byte[1000]) == 0) clean++;
            return clean;
        }
        int independent = Clean(new BitErrorModel(1e-4)), bursty = Clean(new BitErrorModel(1e-4, 64));
        Assert.True(bursty > independent + 400, $"clean messages: bursty {bursty}, independent {independent}");
    }

    [Theory]
    [InlineData(-1e-3, 0)]
    [InlineData(0.5, 0)]
    [InlineData(1e-3, 0.5)]
    [InlineData(double.NaN, 0)]
    public void ImpossibleModelsAreRefused(double ber, double burst) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitErrorModel(ber, burst));
}
