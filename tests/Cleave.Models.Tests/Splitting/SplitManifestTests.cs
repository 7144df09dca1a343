using Cleave.Models.Splitting;

namespace Cleave.Models.Tests.Splitting;

public sealed class SplitManifestTests
{
    [Fact]
    public void JsonUsesSnakeCaseAndRoundTrips()
    {
        var manifest = ModelSplitter.Split(TestModels.AttentionWithMask(), ["h1"], sourceName: "attn.onnx").Manifest;
        string json = manifest.ToJson();
        Assert.Contains("\"source_sha256\"", json);
        Assert.Contains("\"tail_inputs\"", json);
        Assert.Contains("\"side_inputs\"", json);
        Assert.Contains("\"shape\": [\n        \"B\",", json);
        var back = SplitManifest.FromJson(json);
        Assert.Equal(manifest.ComputeHash(), back.ComputeHash());
        Assert.Equal(manifest.Cut[0].Shape, back.Cut[0].Shape);
        Assert.Equal(manifest.Opsets, back.Opsets);
    }

    [Fact]
    public void HashIsStableAcrossRunsAndChangesWithTheCut()
    {
        string first = ModelSplitter.Split(TestModels.ResidualCnn(), ["r1"]).Manifest.ComputeHash();
        string again = ModelSplitter.Split(TestModels.ResidualCnn(), ["r1"]).Manifest.ComputeHash();
        string other = ModelSplitter.Split(TestModels.ResidualCnn(), ["a"]).Manifest.ComputeHash();
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(64, first.Length);
    }

    [Fact]
    public void SaveWritesTheThreeFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cleave-split-{Guid.NewGuid():N}");
        try
        {
            var split = ModelSplitter.Split(TestModels.ResidualCnn(), ["a"]);
            split.Save(dir);
            Assert.True(File.Exists(Path.Combine(dir, "head.onnx")));
            Assert.True(File.Exists(Path.Combine(dir, "tail.onnx")));
            var manifest = SplitManifest.Load(Path.Combine(dir, "split.json"));
            Assert.Equal(split.Manifest.ComputeHash(), manifest.ComputeHash());
            Assert.Equal(Onnx.OnnxModel.HashHex(File.ReadAllBytes(Path.Combine(dir, "tail.onnx"))), manifest.TailSha256);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BrokenJsonIsAClearError()
    {
        Assert.Throws<InvalidDataException>(() => SplitManifest.FromJson("{\"cut\": 5}"));
        var e = Assert.Throws<InvalidDataException>(() => SplitManifest.FromJson("{\"format_version\": 99}"));
        Assert.Contains("99", e.Message);
    }
}
