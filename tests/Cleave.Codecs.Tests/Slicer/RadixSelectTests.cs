using CsCheck;

namespace Cleave.Codecs.Tests.Slicer;

public sealed class RadixSelectTests
{
    [Fact]
    public void MatchesSortingForRandomKeysAndRanks()
    {
        // Keys from a narrow pool force many duplicates and deep radix levels; wide keys exercise the first level.
        Gen.Select(Gen.Int[1, 3000], Gen.Int, Gen.Bool).Sample((n, seed, narrow) =>
        {
            var random = new Random(seed);
            var keys = new uint[n];
            for (int i = 0; i < n; i++) keys[i] = narrow ? 0x3F80_0000u + (uint)random.Next(40) * 1025 : (uint)random.NextInt64(0, 1L << 32);
            var sorted = keys.OrderBy(k => k).ToArray();
            var ranks = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => random.Next(n)).Order().ToArray();
            var results = new uint[ranks.Length];
            RadixSelect.Select(keys, ranks, results);
            for (int j = 0; j < ranks.Length; j++) Assert.Equal(sorted[ranks[j]], results[j]);
        }, iter: 300);
    }

    [Fact]
    public void RefusesRanksOutOfOrderOrRange()
    {
        uint[] keys = [5, 3, 9];
        Assert.Throws<ArgumentOutOfRangeException>(() => RadixSelect.Select(keys, [2, 1], new uint[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RadixSelect.Select(keys, [3], new uint[1]));
    }
}
