using Cleave.Codecs.Analysis;

namespace Cleave.Codecs.Tests.Slicer;

/// <summary>The auto modes against a grid search over the fixed settings on the same synthetic tensors.</summary>
public sealed class SlicerTargetTests
{
    private static readonly float[] GridKeeps = [1f, 0.5f, 0.25f, 0.1f];
    private static readonly int[] GridBlocks = [1, 4, 8, 16];

    private static (int Bytes, double Snr) Measure(string spec, float[] values, TensorShape shape)
    {
        byte[] frame = FeatureCodecs.Create(spec).Encode(values, shape);
        return (frame.Length, Distortion.Measure(values, FeatureFrame.Decode(frame, out _)).SnrDb);
    }

    /// <summary>The smallest frame among fixed settings (keep x blocks x delta in 0.5 dB steps) whose SNR is at least S.</summary>
    internal static (int Bytes, string Spec) BestFixedSetting(float[] values, TensorShape shape, double snr)
    {
        (int Bytes, string Spec) best = (int.MaxValue, "none");
        foreach (float keep in GridKeeps)
        foreach (int blocks in GridBlocks)
            for (double db = snr - 6; db <= snr + 12; db += 0.5)
            {
                string spec = $"slicer:keep={keep},asym=1,blocks={blocks},delta={Math.Pow(10, -db / 10):G4}";
                var (bytes, achieved) = Measure(spec, values, shape);
                if (achieved >= snr && bytes < best.Bytes) best = (bytes, spec);
            }
        return best;
    }

    [Theory]
    [InlineData("gaussian", 10)]
    [InlineData("gaussian", 20)]
    [InlineData("gaussian", 30)]
    [InlineData("relu", 10)]
    [InlineData("relu", 20)]
    [InlineData("relu", 30)]
    public void SnrTargetIsMetWithinTenPercentOfTheBestFixedSetting(string kind, int snr)
    {
        var shape = new TensorShape(16, 16, 16);
        var values = kind == "relu" ? SyntheticTensors.ReluLike(shape.ElementCount, seed: snr) : SyntheticTensors.Gaussian(shape.ElementCount, seed: snr);
        var auto = Measure($"slicer:target=snr:{snr}", values, shape);
        var grid = BestFixedSetting(values, shape, snr);
        Assert.True(auto.Snr >= snr, $"target {snr} dB, achieved {auto.Snr:F2} dB");
        Assert.True(auto.Bytes <= grid.Bytes * 1.10, $"auto {auto.Bytes} B vs best fixed {grid.Bytes} B ({grid.Spec})");
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(2500)]
    public void BytesTargetFitsAndSpendsTheBudget(int budget)
    {
        var shape = new TensorShape(16, 16, 16);
        var values = SyntheticTensors.ReluLike(shape.ElementCount, seed: 7);
        var auto = Measure($"slicer:target=bytes:{budget}", values, shape);
        Assert.True(auto.Bytes <= budget, $"{auto.Bytes} B over the {budget} B target");
        Assert.True(auto.Bytes >= budget * 0.85, $"{auto.Bytes} B leaves much of the {budget} B target unused");
        // A fixed setting of about the same size is not much better in SNR.
        var coarser = Measure($"slicer:target=snr:{auto.Snr + 1:F2}", values, shape);
        Assert.True(coarser.Bytes > budget * 0.97, $"{auto.Snr + 1:F2} dB fits in {coarser.Bytes} B, so the bytes search fell short");
    }

    [Fact]
    public void UnreachableTargetsGiveTheClosestResult()
    {
        var values = SyntheticTensors.Gaussian(4096, seed: 3);
        var shape = new TensorShape(4096);
        var tiny = Measure("slicer:target=bytes:1", values, shape);
        Assert.True(tiny.Bytes < 400, $"the smallest search result should be tiny, got {tiny.Bytes} B");
        var extreme = Measure("slicer:target=snr:150", values, shape);
        Assert.True(extreme.Snr > 45, $"the most accurate setting should be near 8-bit quality, got {extreme.Snr:F1} dB");
    }
}
