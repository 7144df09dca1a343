using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Training.Tests;

/// <summary>A smoke run of the Fashion-MNIST exit CNN (the real runs are CLI commands, docs/trained-architectures.md).</summary>
public sealed class ExitCnnTrainingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-exitcnn-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [FashionMnistFact]
    public void A_short_run_writes_a_split_with_a_calibrated_exit_that_ONNX_Runtime_runs()
    {
        var result = ExitCnnTraining.Run(new ExitCnnRequest
        {
            Density = 0.25, Width = 8, Limit = 800, ExitSteps = 8, Test = false, OutputDirectory = _folder,
            Options = new TrainingOptions { Steps = 12, BatchSize = 32, LearningRate = 0.003, Seed = 1 },
        });
        var split = SplitManifest.Load(Path.Combine(_folder, "split.json"));
        Assert.Equal(ExitCnnTraining.CutName, split.Cut[0].Name);
        var exit = ExitManifest.Load(Path.Combine(_folder, ExitManifest.FileName));
        Assert.Equal(ExitCnnTraining.CutName, exit.Input);
        Assert.Equal(10, exit.Classes);
        Assert.Equal(result.Calibration.Threshold, exit.Threshold);
        Assert.Equal(80, exit.Calibration.Images);
        Assert.True(result.Trunk.LastLoss < result.Trunk.FirstLoss);
        // Sparse trunk at density 1/4: the stem is dense, everything after it a quarter (plus Gather indices, not parameters).
        Assert.True(result.Cost.HeadMacs < result.Cost.Macs);
        Assert.True(result.Cost.Macs < 600_000, $"{result.Cost.Macs} MACs");

        // Head then exit through ONNX Runtime: class scores for the cut tensor the head gives.
        using var head = new OrtModelRunner(File.ReadAllBytes(Path.Combine(_folder, "head.onnx")));
        using var exitRunner = new OrtModelRunner(File.ReadAllBytes(Path.Combine(_folder, "exit.onnx")));
        var image = new float[28 * 28];
        var cut = head.Run(new Dictionary<string, HostTensor> { ["input"] = new(OnnxElementType.Float, [1, 1, 28, 28], image) }, [exit.Input])[exit.Input];
        var scores = (float[])exitRunner.Run(new Dictionary<string, HostTensor> { [exit.Input] = cut }, [exit.Output])[exit.Output].Data;
        Assert.Equal(10, scores.Length);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }
}
