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

    [FashionMnistFact]
    public void Per_layer_densities_set_the_exported_cost_exactly_and_a_dense_model_onnx_can_teach()
    {
        // The teacher: a dense network of the same shape, a few steps (only its export is needed).
        string teacherFolder = Path.Combine(_folder, "dense");
        var options = new TrainingOptions { Steps = 6, BatchSize = 32, LearningRate = 0.003, Seed = 1 };
        ExitCnnTraining.Run(new ExitCnnRequest
        {
            Density = 1, Width = 8, Limit = 400, ExitSteps = 2, Test = false, OutputDirectory = teacherFolder, Options = options,
        });
        string student = Path.Combine(_folder, "sparse");
        var result = ExitCnnTraining.Run(new ExitCnnRequest
        {
            LayerDensities = [0.25, 0.25, 1.0 / 3, 1.0 / 6], Width = 12, Limit = 400, ExitSteps = 2, Test = false,
            TeacherPath = Path.Combine(teacherFolder, "model.onnx"), OutputDirectory = student, Options = options,
        });
        // Six steps only check that the teacher's loss runs; learning itself is the first test's (12 steps, labels).
        Assert.True(double.IsFinite(result.Trunk.LastLoss));
        // W = 12: stem 1 -> 12 (dense), 12 -> 24 at 1/4, 24 -> 24 at 1/4, 24 -> 48 at 1/3, 48 -> 48 at 1/6, linear 48 -> 10.
        long weights = 12 * 9 + 24 * 12 * 9 / 4 + 24 * 24 * 9 / 4 + 48 * 24 * 9 / 3 + 48 * 48 * 9 / 6 + 48 * 10;
        long biases = 12 + 24 + 24 + 48 + 48 + 10;
        Assert.Equal(weights + biases, result.Cost.Parameters);
        long macs = 28 * 28 * 12 * 9 + 14 * 14 * (24 * 12 * 9 / 4 + 24 * 24 * 9 / 4) + 7 * 7 * (48 * 24 * 9 / 3 + 48 * 48 * 9 / 6) + 48 * 10;
        Assert.Equal(macs, result.Cost.Macs);
        var model = OnnxModel.Load(Path.Combine(student, "model.onnx"));
        Assert.Equal([4L, 4, 3, 6], model.Graph.Nodes.Where(n => n.OpType == "Conv").Select(n => n.Proto.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1).Skip(1));
        Assert.Contains("taught by model.onnx", ExitManifest.Load(Path.Combine(student, ExitManifest.FileName)).Trained);
        Assert.Throws<ArgumentException>(() => new ExitCnnRequest { LayerDensities = [0.25, 0.25, 0.5], OutputDirectory = student, Options = options }.TrunkDensities());
    }
}
