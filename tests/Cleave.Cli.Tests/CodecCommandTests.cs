using System.Text.Json;
using Cleave.Codecs;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Tests;

public sealed class CodecCommandTests
{
    [Fact]
    public void EncodeThenDecodeGivesBackTheTensor()
    {
        using var dir = new TempFolder();
        var values = SyntheticTensors.Gaussian(2 * 3 * 5, seed: 4);
        NpyFile.WriteFloat32(dir.File("x.npy"), values, new TensorShape(2, 3, 5));

        var (code, stdout, stderr) = CliRunner.Run("codec", "encode", dir.File("x.npy"), "--codec", "zstd:level=3", "-o", dir.File("x.clv"));
        Assert.True(code == 0, stderr);
        Assert.Contains("zstd:level=3", stdout);

        (code, _, stderr) = CliRunner.Run("codec", "decode", dir.File("x.clv"), "-o", dir.File("y.npy"));
        Assert.True(code == 0, stderr);
        var (back, shape) = NpyFile.ReadFloat32(dir.File("y.npy"));
        Assert.Equal(new TensorShape(2, 3, 5), shape);
        Assert.Equal(values, back);
    }

    [Fact]
    public void BenchJsonHasTheDocumentedKeys()
    {
        using var dir = new TempFolder();
        NpyFile.WriteFloat32(dir.File("x.npy"), SyntheticTensors.ReluLike(4096, seed: 2), new TensorShape(1, 16, 16, 16));
        var (code, stdout, stderr) = CliRunner.Run("codec", "bench", dir.File("x.npy"), "--codecs", "raw;quant:bits=4;fp16", "--seconds", "0", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        foreach (string key in new[] { "codec", "bytes", "bits_per_element", "entropy_bound_bytes", "snr_db", "rel_mse", "encode_mbps", "decode_mbps" })
            Assert.All(rows, r => Assert.True(r.TryGetProperty(key, out _), $"missing {key}"));
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("snr_db").ValueKind); // lossless: infinite SNR
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("entropy_bound_bytes").ValueKind);
        Assert.True(rows[1].GetProperty("entropy_bound_bytes").GetDouble() > 0);
        Assert.Equal(4096 * 4 + 34, rows[0].GetProperty("bytes").GetInt32());
        Assert.InRange(rows[1].GetProperty("bits_per_element").GetDouble(), 4.0, 4.2);
    }

    [Fact]
    public void BadInputGetsAClearMessageAndNonZeroExit()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("bad.clv"), "not a frame at all");
        var (code, _, stderr) = CliRunner.Run("codec", "decode", dir.File("bad.clv"), "-o", dir.File("out.npy"));
        Assert.Equal(1, code);
        Assert.Contains("magic", stderr);
        Assert.False(File.Exists(dir.File("out.npy")));

        (code, _, stderr) = CliRunner.Run("codec", "encode", dir.File("missing.npy"), "--codec", "raw", "-o", dir.File("o.clv"));
        Assert.Equal(1, code);
        Assert.Contains("missing.npy", stderr);

        (code, _, stderr) = CliRunner.Run("codec", "bench", "--codecs", "quant:bits=99");
        Assert.Equal(1, code);
        Assert.Contains("bits=99", stderr);

        (code, _, stderr) = CliRunner.Run("codec", "encode", "--frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("unknown option --frobnicate", stderr);
    }

    [Fact]
    public void HelpListsEveryVerb()
    {
        var (code, stdout, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        foreach (string verb in new[] { "codec bench", "codec encode", "codec decode", "version" })
            Assert.Contains(verb, stdout);
    }
}
