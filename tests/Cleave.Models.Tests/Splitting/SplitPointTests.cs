using Cleave.Models.Splitting;

namespace Cleave.Models.Tests.Splitting;

public sealed class SplitPointTests
{
    [Fact]
    public void FindsSingleAndCrossBranchCutsInAResidualCnn()
    {
        var analysis = new SplitAnalysis(TestModels.ResidualCnn());
        var report = ModelInspector.Inspect(analysis, "cnn");
        var singles = report.SplitPoints.Where(p => p.Kind == "single").Select(p => p.Tensors.Single()).ToList();
        Assert.Equal(["c1", "r1", "a", "p", "f"], singles);
        var multi = Assert.Single(report.SplitPoints, p => p.Kind == "multi");
        Assert.Equal(["r1", "c2"], multi.Tensors);
        // c2 alone is not a separator: the residual branch still needs r1.
        Assert.DoesNotContain(report.SplitPoints, p => p.Tensors.SequenceEqual(["c2"]));
    }

    [Fact]
    public void CountsMacsAndParametersPerHalf()
    {
        var report = ModelInspector.Inspect(new SplitAnalysis(TestModels.ResidualCnn()), "cnn");
        Assert.Equal(6912 + 9216 + 20, report.Macs);
        var atR1 = report.SplitPoints.Single(p => p.Tensors.SequenceEqual(["r1"]));
        Assert.Equal(6912, atR1.HeadMacs);
        Assert.Equal(9216 + 20, atR1.TailMacs);
        Assert.Equal(4 * 3 * 3 * 3 + 4, atR1.HeadParams);
        Assert.Equal(4 * 4 * 3 * 3 + 4 * 5 + 5, atR1.TailParams);
        Assert.Equal(4 * 8 * 8 * 4, atR1.BytesFp32);
        Assert.Equal("N", atR1.Shape[0][0].Symbol);
        var multi = report.SplitPoints.Single(p => p.Kind == "multi");
        Assert.Equal(2 * 4 * 8 * 8 * 4, multi.BytesFp32);
        Assert.Equal(6912 + 9216, multi.HeadMacs);
    }

    [Fact]
    public void AttentionMaskIsASideInputAndTheBlockBoundaryASplitPoint()
    {
        var analysis = new SplitAnalysis(TestModels.AttentionWithMask());
        Assert.Equal(["attention_mask"], analysis.Roles.SideInputs);
        Assert.Equal(TensorRole.Side, analysis.Roles.RoleOf("mask_b"));
        var report = ModelInspector.Inspect(analysis, "attn");
        Assert.Contains(report.SplitPoints, p => p.Kind == "single" && p.Tensors.SequenceEqual(["h1"]));
        Assert.DoesNotContain(report.SplitPoints, p => p.Tensors.Any(t => t.StartsWith("mask", StringComparison.Ordinal)));
        Assert.Equal(16, report.SymbolValues["S"]);
    }

    [Fact]
    public void WithoutSideInputsTheMaskMustCrossTheCut()
    {
        var analysis = new SplitAnalysis(TestModels.AttentionWithMask(), new SplitOptions { SideInputs = [] });
        var e = Assert.Throws<InvalidSplitException>(() => analysis.Plan(["h1"]));
        Assert.Contains("'mask_b'", e.Reason); // made from the mask in the head, needed again by the second block
    }

    [Fact]
    public void UnknownTensorIsRefusedWithNameHintsAndSuggestions()
    {
        var analysis = new SplitAnalysis(TestModels.ResidualCnn());
        var e = Assert.Throws<InvalidSplitException>(() => analysis.Plan(["r2"]));
        Assert.Contains("does not exist", e.Reason);
        Assert.Contains("'r1'", e.Reason);
        Assert.NotEmpty(e.Suggestions);
    }

    [Fact]
    public void NonSeparatingCutSaysWhatIsMissingAndSuggestsNearbyCuts()
    {
        var analysis = new SplitAnalysis(TestModels.ResidualCnn());
        var e = Assert.Throws<InvalidSplitException>(() => analysis.Plan(["c2"]));
        Assert.Contains("'r1'", e.Reason);
        Assert.Contains("r1,c2", e.Suggestions);
        Assert.Contains("a", e.Suggestions);
    }

    [Theory]
    [InlineData("x", "graph input")]
    [InlineData("y", "graph output")]
    [InlineData("w1", "constant")]
    public void CutsThatSeparateNothingAreRefused(string tensor, string reason)
    {
        var analysis = new SplitAnalysis(TestModels.ResidualCnn());
        var e = Assert.Throws<InvalidSplitException>(() => analysis.Plan([tensor]));
        Assert.Contains(reason, e.Reason);
    }

    [Fact]
    public void RedundantCutTensorIsRefused()
    {
        var analysis = new SplitAnalysis(TestModels.ResidualCnn());
        var e = Assert.Throws<InvalidSplitException>(() => analysis.Plan(["a", "r1"]));
        Assert.Contains("never reads 'r1'", e.Reason);
    }

    [Fact]
    public void ShapeOnlyTensorsTheTailNeedsRideAlongAsAuxiliary()
    {
        var analysis = new SplitAnalysis(TestModels.ShapeCarriedAcrossCut());
        var plan = analysis.Plan(["m"]);
        Assert.Equal(["s"], plan.AuxiliaryTensors);
        Assert.Equal(TensorRole.ShapeOnly, analysis.Roles.RoleOf("s"));
        var report = ModelInspector.Inspect(analysis, "shape");
        var atM = report.SplitPoints.Single(p => p.Tensors.SequenceEqual(["m"]));
        Assert.Equal(["s"], atM.AuxiliaryTensors);
    }

    [Fact]
    public void SideInputsMustBeGraphInputs()
    {
        var e = Assert.Throws<ArgumentException>(() => new SplitAnalysis(TestModels.ResidualCnn(), new SplitOptions { SideInputs = ["mask"] }));
        Assert.Contains("not a graph input", e.Message);
    }
}
