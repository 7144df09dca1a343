using Cleave.Evaluation.Sentences;

namespace Cleave.Evaluation.Tests.Sentences;

public sealed class SpearmanCorrelationTests
{
    [Fact]
    public void TiedValuesShareTheMeanOfTheirRanks() =>
        Assert.Equal([3.5, 1, 3.5, 2], SpearmanCorrelation.Ranks([3.0, 1, 3, 2]));

    [Fact]
    public void MatchesAHandComputedCaseWithTiesOnBothSides()
    {
        // x ranks 1, 2.5, 2.5, 4, 5; y ranks 1, 4, 2.5, 2.5, 5. Deviations from the mean rank 3:
        // dx = -2, -0.5, -0.5, 1, 2 and dy = -2, 1, -0.5, -0.5, 2, so sum dx*dy = 7.25 and sum dx^2 = sum dy^2 = 9.5.
        double rho = SpearmanCorrelation.Compute([1.0, 2, 2, 3, 4], [10.0, 30, 20, 20, 50]);
        Assert.Equal(7.25 / 9.5, rho, 12);
    }

    [Fact]
    public void DependsOnOrderOnlyAndGivesZeroForAConstantSample()
    {
        double[] x = [0.1, 0.5, 0.2, 0.9, 0.3];
        Assert.Equal(1.0, SpearmanCorrelation.Compute(x, [.. x.Select(v => Math.Exp(10 * v))]), 12);
        Assert.Equal(-1.0, SpearmanCorrelation.Compute(x, [.. x.Select(v => -v * v * v)]), 12);
        Assert.Equal(0.0, SpearmanCorrelation.Compute(x, [2.0, 2, 2, 2, 2]));
    }

    [Fact]
    public void RefusesMismatchedShortOrNaNSamples()
    {
        Assert.Throws<ArgumentException>(() => SpearmanCorrelation.Compute([1.0, 2], [1.0, 2, 3]));
        Assert.Throws<ArgumentException>(() => SpearmanCorrelation.Compute([1.0], [1.0]));
        Assert.Throws<ArgumentException>(() => SpearmanCorrelation.Compute([1.0, double.NaN], [1.0, 2]));
    }
}
