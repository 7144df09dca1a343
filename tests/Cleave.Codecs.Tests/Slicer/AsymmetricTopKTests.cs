using CsCheck;

namespace Cleave.Codecs.Tests.Slicer;

public sealed class AsymmetricTopKTests
{
    [Fact]
    public void SelectionMatchesASortByScoreThenTieHash()
    {
        // Few distinct values force many ties; special values check the NaN/Inf scoring rules.
        float[] pool = [0f, -0f, 1f, -1f, 2.5f, -2.5f, 0.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -3f];
        Gen.Select(Gen.Int[1, 400], Gen.Int, Gen.Float[0f, 3f]).Sample((n, seed, asym) =>
        {
            var random = new Random(seed);
            var values = Enumerable.Range(0, n).Select(_ => random.Next(3) == 0 ? pool[random.Next(pool.Length)] : (float)(random.NextDouble() * 4 - 2)).ToArray();
            int k = 1 + random.Next(n);
            var survivors = new int[k];
            AsymmetricTopK.Select(values, asym, survivors);
            var expected = Enumerable.Range(0, n)
                .OrderByDescending(i => AsymmetricTopK.ScoreKey(values[i], asym))
                .ThenBy(AsymmetricTopK.TieHash)
                .Take(k).Order().ToArray();
            Assert.Equal(expected, survivors);
        }, iter: 300);
    }
}
