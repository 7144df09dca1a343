using System.Text.Json;
using Cleave.Codecs;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Tests;

public sealed class CodecNcolsCommandTests
{
    [Fact]
    public void ReportsPredictedAndActualBytesForEveryWidthAndTheChoice()
    {
        using var dir = new TempFolder();
        var shape = new TensorShape(8, 16, 16);
        NpyFile.WriteFloat32(dir.File("x.npy"), SyntheticTensors.ReluLike(shape.ElementCount, seed: 2, zeroFraction: 0.8), shape);

        var (code, stdout, stderr) = CliRunner.Run("codec", "ncols", dir.File("x.npy"), "--codec", "rans-ifc:bits=6", "--widths", "1,16,256", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("rans-ifc:bits=6", root.GetProperty("codec").GetString());
        var widths = root.GetProperty("widths").EnumerateArray().ToArray();
        Assert.Equal([1, 16, 256], widths.Select(w => w.GetProperty("ncols").GetInt32()));
        foreach (var w in widths)
        {
            Assert.True(w.GetProperty("actual_bytes").GetDouble() > 0);
            Assert.InRange(w.GetProperty("relative_error").GetDouble(), -0.2, 0.2);
        }
        Assert.True(root.GetProperty("chosen_actual_bytes").GetDouble() >= root.GetProperty("best_actual_bytes").GetDouble());

        (code, stdout, stderr) = CliRunner.Run("codec", "ncols", dir.File("x.npy"));
        Assert.True(code == 0, stderr);
        Assert.Contains("chosen", stdout);
        Assert.Contains("dense", stdout);
    }

    [Fact]
    public void ExhaustiveSearchOverARangeIncludesTheChosenWidth()
    {
        using var dir = new TempFolder();
        var shape = new TensorShape(4, 30, 30);
        NpyFile.WriteFloat32(dir.File("x.npy"), SyntheticTensors.ReluLike(shape.ElementCount, seed: 3, zeroFraction: 0.6), shape);

        var (code, stdout, stderr) = CliRunner.Run("codec", "ncols", dir.File("x.npy"), "--widths", "2-5,7", "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var tried = json.RootElement.GetProperty("widths").EnumerateArray().Select(w => w.GetProperty("ncols").GetInt32()).ToArray();
        Assert.Equal([2, 3, 4, 5, 7], tried.Take(5));
        var root = json.RootElement;
        if (root.GetProperty("chosen_layout").GetString() == "csr")
            Assert.Contains(root.GetProperty("chosen_ncols").GetInt32(), tried);

        (code, _, stderr) = CliRunner.Run("codec", "ncols", dir.File("x.npy"), "--widths", "9-3");
        Assert.Equal(2, code);
        Assert.Contains("backwards", stderr);
    }

    [Fact]
    public void RefusesACodecOtherThanRansIfc()
    {
        using var dir = new TempFolder();
        NpyFile.WriteFloat32(dir.File("x.npy"), [1f, 0f], new TensorShape(2));
        var (code, _, stderr) = CliRunner.Run("codec", "ncols", dir.File("x.npy"), "--codec", "quant:bits=8");
        Assert.Equal(2, code);
        Assert.Contains("rans-ifc", stderr);
    }
}
