using System.Text.Json;

namespace Cleave.Cli.Tests;

public sealed class EvalTaskCommandTests
{
    [Fact]
    public void UnknownTaskAndMissingOptionsAreUsageErrors()
    {
        var (code, _, stderr) = CliRunner.Run("eval", "--task", "detection", "--model", "m.onnx");
        Assert.Equal(2, code);
        Assert.Contains("unknown --task 'detection'", stderr);
        (code, _, stderr) = CliRunner.Run("eval", "--task", "segmentation", "--model", "m.onnx");
        Assert.Equal(2, code);
        Assert.Contains("--split", stderr);
        (code, _, stderr) = CliRunner.Run("eval", "--task=sts", "--split", "522", "--model", "m.onnx");
        Assert.Equal(2, code);
        Assert.Contains("--model and --vocab go together", stderr);
    }

    [StsFact]
    public void StsTaskReportsSpearmanAndBytesPerTokenAsJson()
    {
        string sts = TestAssets.Path(StsFactAttribute.StsCsv);

        var (code, stdout, stderr) = CliRunner.Run("eval", "--task", "sts", "--split", "522", "--data", sts, "--limit", "3",
            "--codec", "raw;quant:bits=8,entropy=rans", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("eval sts raw", stderr); // progress goes to standard error
        using var doc = JsonDocument.Parse(stdout);
        var raw = doc.RootElement[0];
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(3, raw.GetProperty("pairs").GetInt32());
        Assert.Equal(raw.GetProperty("full_spearman").GetDouble(), raw.GetProperty("spearman").GetDouble(), 6);
        Assert.True(raw.GetProperty("bytes_per_token").GetDouble() > 1536);
        Assert.True(doc.RootElement[1].GetProperty("bytes_per_token").GetDouble() < 400);
        foreach (string key in new[] { "encode_ms", "decode_ms", "bytes_mean", "tokens" })
            Assert.True(raw.TryGetProperty(key, out _), key);
    }
}
