using Cleave.Codecs;
using Cleave.Codecs.Npy;

namespace Cleave.Cli.Tests;

/// <summary>`-o artifacts/x` on a fresh clone: the folders of an output path are created, not reported missing.</summary>
public sealed class OutputPathTests
{
    [Fact]
    public void An_output_in_folders_that_do_not_exist_yet_is_written()
    {
        using var dir = new TempFolder();
        NpyFile.WriteFloat32(dir.File("x.npy"), SyntheticTensors.Gaussian(12, seed: 1), new TensorShape(3, 4));
        string output = Path.Combine(dir.Path, "artifacts", "frames", "x.clv");
        var (code, _, stderr) = CliRunner.Run("codec", "encode", dir.File("x.npy"), "--codec", "raw", "-o", output);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(output));
    }
}
