using Cleave.Evaluation.Classification;

namespace Cleave.Evaluation.Tests;

public sealed class KlDivergenceTests
{
    [Fact]
    public void IdenticalDistributionsHaveZeroDivergence() =>
        Assert.Equal(0, SplitClassificationEval.KlDivergence([0.2f, 0.3f, 0.5f], [0.2f, 0.3f, 0.5f]), 9);

    [Fact]
    public void ProbabilitiesAreUsedAsGiven()
    {
        double expected = 0.5 * Math.Log(0.5 / 0.25) + 0.5 * Math.Log(0.5 / 0.75);
        Assert.Equal(expected, SplitClassificationEval.KlDivergence([0.5f, 0.5f], [0.25f, 0.75f]), 6);
    }

    [Fact]
    public void LogitsGoThroughASoftmaxFirst()
    {
        // Logits [0, ln 3] are the distribution [0.25, 0.75].
        double expected = 0.5 * Math.Log(0.5 / 0.25) + 0.5 * Math.Log(0.5 / 0.75);
        Assert.Equal(expected, SplitClassificationEval.KlDivergence([0f, 0f], [0f, (float)Math.Log(3)]), 5);
    }
}
