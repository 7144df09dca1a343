using System.Text;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Models.Tests.Profiling;

public sealed class ProfilingTests
{
    [Fact]
    public void ShapeProbeFindsIntermediateShapesAndKeepsBatchSymbolic()
    {
        var model = TestModels.ResidualCnn();
        var types = TensorShapeProbe.Probe(model, ["c2", "f"], new Dictionary<string, long> { ["N"] = 1 }, 1).Types;
        Assert.Equal("float32[N,4,8,8]", types["c2"].ToString());
        Assert.Equal("float32[N,4]", types["f"].ToString());
    }

    [Fact]
    public void DerivedSpatialDimensionsStaySymbolicAndDistinct()
    {
        var model = TestModels.StridedImageModel();
        var analysis = new SplitAnalysis(model, new SplitOptions { IntraOpThreads = 1 });
        Assert.Equal(DummyInputs.DefaultImageSize, analysis.Symbols["H"]); // image-like input: spatial default 224
        var type = analysis.TypeOf("r");
        Assert.Equal("N", type.Dimensions![0].Symbol);
        Assert.Equal(4, type.Dimensions[1].Value);
        string h = type.Dimensions[2].Symbol!, w = type.Dimensions[3].Symbol!;
        Assert.NotEqual(h, w);
        Assert.Equal(112, analysis.SampleValues[h]);
        Assert.Equal(4L * 112 * 112 * 4, analysis.BytesFp32(["r"]));

        // The tail takes a non-square input of another size.
        var split = ModelSplitter.Split(analysis, ["r"]);
        var inputs = DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["N"] = 2, ["H"] = 10, ["W"] = 6 });
        Assert.True(SplitVerifier.Verify(model, split, inputs, intraOpThreads: 1).Passed);
    }

    [Fact]
    public void SymbolDefaultsAndOverrides()
    {
        var graph = TestModels.AttentionWithMask().Graph;
        var defaults = DummyInputs.ResolveSymbols(graph);
        Assert.Equal(1, defaults["B"]);
        Assert.Equal(DummyInputs.DefaultSequenceLength, defaults["S"]);
        Assert.Equal(5, DummyInputs.ResolveSymbols(graph, new Dictionary<string, long> { ["S"] = 5 })["S"]);
        var e = Assert.Throws<ArgumentException>(() => DummyInputs.ResolveSymbols(graph, new Dictionary<string, long> { ["T"] = 5 }));
        Assert.Contains("'T'", e.Message);
        var inputs = DummyInputs.Create(graph, defaults);
        Assert.All((long[])inputs["attention_mask"].Data, v => Assert.Equal(1, v));
    }

    [Fact]
    public void LatencyProfilerReturnsPositiveMedians()
    {
        var model = TestModels.ResidualCnn();
        var split = ModelSplitter.Split(model, ["a"]);
        var latency = LatencyProfiler.Measure(split, DummyInputs.Create(model.Graph, new Dictionary<string, long> { ["N"] = 1 }), runs: 3, intraOpThreads: 1);
        Assert.True(latency.HeadMilliseconds > 0);
        Assert.True(latency.TailMilliseconds > 0);
    }

    [Fact]
    public void NpyFilesFeedModelsAndTruncatedOnesAreRefused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cleave-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(path, Npy("<f4", "(2, 3)", [1, 2, 3, 4, 5, 6]));
            var t = HostTensor.FromNpy(Cleave.Codecs.Npy.NpyFile.Read(path));
            Assert.Equal(OnnxElementType.Float, t.ElementType);
            Assert.Equal([2L, 3L], t.Shape);
            Assert.Equal(6f, ((float[])t.Data)[5]);

            var bytes = Npy("<f4", "(2, 3)", [1, 2, 3, 4, 5, 6]);
            File.WriteAllBytes(path, bytes[..^4]);
            Assert.Throws<Cleave.Codecs.FrameFormatException>(() => Cleave.Codecs.Npy.NpyFile.Read(path));
        }
        finally { File.Delete(path); }
    }

    private static byte[] Npy(string descr, string shape, float[] values)
    {
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        header = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        var result = new List<byte> { 0x93 };
        result.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        result.Add(1); result.Add(0);
        result.Add((byte)(header.Length & 0xFF)); result.Add((byte)(header.Length >> 8));
        result.AddRange(Encoding.ASCII.GetBytes(header));
        foreach (float v in values) result.AddRange(BitConverter.GetBytes(v));
        return [.. result];
    }
}
