using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Models.Tests.Splitting;

/// <summary>
/// Splits real models: the shared reference ONNX conversions (to be replaced by the project's own importer output
/// once it lands) and all-MiniLM-L6-v2 from its NuGet package. The full sweep over every MobileNetV2 candidate is a
/// CLI run recorded in docs/models.md; here a handful of cuts keeps the suite fast.
/// </summary>
public sealed class RealModelTests
{
    private const string MobileNet = "reference/mobilenet_v2_1.0_224_quant.float.onnx";
    private const string Stories = "reference/stories260K.onnx";

    [AssetFact(MobileNet)]
    public void MobileNetV2SplitsVerifyAtSingleAndCrossBranchCuts()
    {
        var model = OnnxModel.Load(TestAssets.Path(MobileNet));
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 2 });
        var report = ModelInspector.Inspect(analysis, "mobilenet");
        Assert.InRange(report.Macs, 290_000_000, 310_000_000); // MobileNetV2 1.0/224 is about 300 M MACs
        Assert.InRange(report.Parameters, 3_400_000, 3_600_000);
        Assert.Contains(report.SplitPoints, p => p.Tensors.SequenceEqual(["add_60"]));
        var multi = report.SplitPoints.First(p => p.Kind == "multi");

        var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
        foreach (var cut in new[] { ["add_60"], multi.Tensors, ["add_210"], ["averagepool_368"] })
        {
            var split = ModelSplitter.Split(analysis, cut);
            var result = SplitVerifier.Verify(model, split, inputs, intraOpThreads: 2);
            Assert.True(result.Passed, $"cut {string.Join(",", cut)}: relative error {result.MaxRelativeError}");
        }
    }

    [AssetFact(Stories)]
    public void Stories260KSplitsBetweenLayers()
    {
        var model = OnnxModel.Load(TestAssets.Path(Stories));
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 2 });
        var split = ModelSplitter.Split(analysis, ["layer2_out"]);
        Assert.Equal("T", split.Manifest.Cut[0].Shape[1].Symbol);
        var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
        Assert.True(SplitVerifier.Verify(model, split, inputs, intraOpThreads: 2).Passed);
    }

    [MiniLmFact]
    public void MiniLmSplitsMidEncoderWithTheMaskPassedThrough()
    {
        var model = OnnxModel.FromBytes(MiniLmAsset.ModelBytes, "all-MiniLM-L6-v2");
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 2, SymbolValues = new Dictionary<string, long> { ["sequence"] = 8 } });
        Assert.Equal(["attention_mask", "token_type_ids"], analysis.Roles.SideInputs.Order());
        var report = ModelInspector.Inspect(analysis, "minilm");
        var middle = report.SplitPoints.Where(p => p.Kind == "single").OrderBy(p => Math.Abs(p.HeadMacShare - 0.5)).First();
        var split = ModelSplitter.Split(analysis, middle.Tensors);
        Assert.Contains("attention_mask", split.Manifest.SideInputs);
        Assert.Equal(["batch", "sequence", "384"], split.Manifest.Cut[0].Shape.Select(d => d.ToString()));

        var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
        var mask = (long[])inputs["attention_mask"].Data;
        mask[^1] = mask[^2] = 0; // two padding tokens: the tail's attention must see the mask
        var result = SplitVerifier.Verify(model, split, inputs, intraOpThreads: 2);
        Assert.True(result.Passed, $"relative error {result.MaxRelativeError}");
    }
}
