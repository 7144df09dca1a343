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
        var types = TensorShapeProbe.Probe(model, ["c2", "f"], new Dictionary<string, long> { ["N"] = 1 }, 1);
        Assert.Equal("float32[N,4,8,8]", types["c2"].ToString());
        Assert.Equal("float32[N,4]", types["f"].ToString());
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
    public void NpyReaderReadsFloat32AndRejectsTruncatedData()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cleave-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(path, Npy("<f4", "(2, 3)", [1, 2, 3, 4, 5, 6]));
            var t = NpyTensorReader.Read(path);
            Assert.Equal(OnnxElementType.Float, t.ElementType);
            Assert.Equal([2L, 3L], t.Shape);
            Assert.Equal(6f, ((float[])t.Data)[5]);

            var bytes = Npy("<f4", "(2, 3)", [1, 2, 3, 4, 5, 6]);
            File.WriteAllBytes(path, bytes[..^4]);
            Assert.Throws<InvalidDataException>(() => NpyTensorReader.Read(path));
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
