using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Models.Tests.Splitting;

public sealed class ModelSplitterTests
{
    public static TheoryData<string> CnnCuts => new() { "c1", "r1", "a", "p", "f", "r1,c2" };

    [Theory]
    [MemberData(nameof(CnnCuts))]
    public void EveryCnnCutVerifies(string cut)
    {
        var model = TestModels.ResidualCnn();
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 1 });
        var split = ModelSplitter.Split(analysis, cut.Split(','), "cnn.onnx");
        var inputs = DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["N"] = 2 });
        var result = SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1);
        Assert.True(result.Passed, $"relative error {result.MaxRelativeError}");
        Assert.Equal(["y"], result.ComparedOutputs);
    }

    [Fact]
    public void HalvesKeepOnlyTheInitializersTheyReadAndTypedCutTensors()
    {
        var split = ModelSplitter.Split(TestModels.ResidualCnn(initializersAsInputs: true), ["r1"]);
        var head = split.Head.Proto.Graph;
        var tail = split.Tail.Proto.Graph;
        Assert.Equal(["b1", "w1"], head.Initializer.Select(i => i.Name).Order());
        Assert.Equal(["bg", "w2", "wg"], tail.Initializer.Select(i => i.Name).Order());
        Assert.Equal(["x"], head.Input.Select(i => i.Name));
        Assert.Equal(["r1"], head.Output.Select(o => o.Name));
        Assert.Equal(["r1"], tail.Input.Select(i => i.Name));
        Assert.Equal("float32[N,4,8,8]", TensorType.FromValueInfo(tail.Input[0])!.ToString());
        Assert.Equal(13, split.Head.DefaultOpsetVersion);
        Assert.Equal(13, split.Tail.DefaultOpsetVersion);
    }

    [Fact]
    public void BatchDimensionStaysSymbolicSoTheTailTakesAnyBatch()
    {
        var model = TestModels.ResidualCnn();
        var split = ModelSplitter.Split(model, ["a"]);
        var inputs = DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["N"] = 3 });
        Assert.True(SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1).Passed);
    }

    [Fact]
    public void TailOfAnAttentionSplitReadsTheMaskAsASideInput()
    {
        var model = TestModels.AttentionWithMask();
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 1 });
        var split = ModelSplitter.Split(analysis, ["h1"]);
        Assert.Equal(["h1", "attention_mask"], split.Tail.Proto.Graph.Input.Select(i => i.Name));
        Assert.Equal(["attention_mask"], split.Manifest.SideInputs);
        Assert.Equal(["cut", "side"], split.Manifest.TailInputs.Select(t => t.Role));
        // The mask arithmetic runs in both halves.
        Assert.Contains(split.Head.Proto.Graph.Node, n => n.Name == "mask_cast");
        Assert.Contains(split.Tail.Proto.Graph.Node, n => n.Name == "mask_cast");

        var inputs = DummyInputs.Create(model.Graph, analysis.Symbols);
        var mask = (long[])inputs["attention_mask"].Data;
        for (int i = mask.Length / 2; i < mask.Length; i++) mask[i] = 0; // padding matters only if the tail sees the mask
        Assert.True(SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1).Passed);
    }

    [Fact]
    public void AuxiliaryShapeTensorCrossesAndTheSplitVerifies()
    {
        var model = TestModels.ShapeCarriedAcrossCut();
        var split = ModelSplitter.Split(model, ["u"]);
        Assert.Equal(["u", "s"], split.Tail.Proto.Graph.Input.Select(i => i.Name));
        Assert.Equal("auxiliary", split.Manifest.Cut[1].Role);
        Assert.Equal("int64", split.Manifest.Cut[1].Dtype);
        var inputs = DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["S"] = 5 });
        Assert.True(SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1).Passed);
    }

    [Fact]
    public void VerificationCatchesATailThatComputesSomethingElse()
    {
        var model = TestModels.ResidualCnn();
        var split = ModelSplitter.Split(model, ["r1"]);
        // Swap the tail's Gemm weights for different ones: the outputs must disagree.
        var tailProto = split.Tail.Proto.Clone();
        var wg = tailProto.Graph.Initializer.Single(i => i.Name == "wg");
        for (int i = 0; i < wg.FloatData.Count; i++) wg.FloatData[i] += 0.5f;
        var broken = split with { Tail = OnnxModel.FromProto(tailProto) };
        var inputs = DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["N"] = 1 });
        var result = SplitVerifier.Verify(model, broken, inputs, intraOpThreads: 1);
        Assert.False(result.Passed);
        Assert.True(result.MaxAbsoluteError > 1e-3);
    }
}
