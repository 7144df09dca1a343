using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Models.Tests.Llama2c;

namespace Cleave.Models.Tests.Splitting;

/// <summary>Models with per-layer KV-cache state (imported llama2.c) split at every layer output.</summary>
public sealed class KvStateSplitTests
{
    [Fact]
    public void SyntheticLlamaSplitsAtEveryLayerOutputWithItsCaches()
    {
        var checkpoint = Llama2cCheckpoint.Parse(SyntheticCheckpoint.Create(SyntheticCheckpoint.Small(), seed: 4));
        var model = OnnxModel.FromProto(Llama2cExport.BuildFull(checkpoint));
        AssertEveryLayerOutputSplits(model, checkpoint.Config.Layers, checkpoint.Config.Layers);
    }

    [AssetFact(Stories260K.Checkpoint)]
    public void Stories260KSplitsAtLayerOutputs0To3()
    {
        var model = OnnxModel.FromBytes(Stories260K.OnnxBytes);
        AssertEveryLayerOutputSplits(model, layersToCheck: 4, totalLayers: Stories260K.Model.Config.Layers);
    }

    [Fact]
    public void StatelessModelGetsNoStateInputsOrOutputs()
    {
        var split = ModelSplitter.Split(TestModels.ResidualCnn(), ["r1"]);
        Assert.Empty(split.Plan.HeadStateOutputs);
        Assert.Empty(split.Plan.TailStateInputs);
        Assert.Empty(split.Manifest.HeadStateOutputs);
        Assert.Empty(split.Manifest.TailStateInputs);
        Assert.Equal(["y"], split.Manifest.Outputs.Select(o => o.Name));
    }

    private static void AssertEveryLayerOutputSplits(OnnxModel model, int layersToCheck, int totalLayers)
    {
        // A short past keeps the runs fast; the caches still have to reach the right half.
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 1, SymbolValues = new Dictionary<string, long> { ["P"] = 6, ["T"] = 3 } });
        var singles = analysis.Frontiers.Where(f => !f.IsMultiTensor).Select(f => f.Tensors[0]).ToHashSet();
        var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
        for (int l = 0; l < layersToCheck; l++)
        {
            string cut = Llama2cExport.LayerOutput(l);
            Assert.Contains(cut, singles);
            var split = ModelSplitter.Split(analysis, [cut]);

            // Caches of layers <= l stay with the head, those after it go to the tail.
            var headState = Enumerable.Range(0, l + 1).SelectMany(i => new[] { Llama2cExport.PresentKey(i), Llama2cExport.PresentValue(i) }).ToList();
            var tailState = Enumerable.Range(l + 1, totalLayers - l - 1).SelectMany(i => new[] { Llama2cExport.PastKey(i), Llama2cExport.PastValue(i) }).ToList();
            Assert.Equal(headState, split.Manifest.HeadStateOutputs.Select(t => t.Name));
            Assert.Equal(tailState, split.Manifest.TailStateInputs);
            Assert.Equal([cut, .. headState], split.Head.Graph.Outputs);
            Assert.DoesNotContain(split.Head.Graph.Inputs, tailState.Contains);

            var result = SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1);
            Assert.True(result.Passed, $"{cut}: relative error {result.MaxRelativeError}");
            Assert.Equal(model.Graph.Outputs.Order(), result.ComparedOutputs.Order());
        }
    }
}
