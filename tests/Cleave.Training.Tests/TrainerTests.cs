using Cleave.Training.Data;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using TorchSharp;
using static TorchSharp.torch;

namespace Cleave.Training.Tests;

/// <summary>The training loop on real data (Fashion-MNIST): the loss falls, runs repeat exactly, resume continues, bad input fails cleanly.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class TrainerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-train-").FullName;

    public TrainerTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SequentialLayer TinyCnn()
    {
        manual_seed(11);
        return new SequentialLayer(
            new Conv2dLayer(1, 8, 3, stride: 2), new BatchNorm2dLayer(8), new ActivationLayer(),
            new Conv2dLayer(8, 16, 3, stride: 2), new BatchNorm2dLayer(16), new ActivationLayer(relu6: true),
            new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(16, 10));
    }

    private static (IExampleSet Train, IExampleSet Validation) Data(int count = 1024)
    {
        var all = FashionMnist.Load(limit: count);
        return ExampleSubset.Split(all, 0.25, seed: 3);
    }

    [FashionMnistFact]
    public void AdamW_loss_falls_on_Fashion_MNIST_and_the_trained_model_exports_to_matching_ONNX()
    {
        var (train, validation) = Data();
        using var net = TinyCnn();
        var summary = Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, validation,
            new TrainingOptions { Steps = 60, BatchSize = 32, LearningRate = 0.03, WarmupSteps = 5, Seed = 1 });
        Assert.True(summary.LastLoss < 0.8 * summary.FirstLoss, $"loss {summary.FirstLoss:F3} -> {summary.LastLoss:F3}");
        Assert.True(summary.ValidationAccuracy > 0.4, $"validation accuracy {summary.ValidationAccuracy:P1} (chance is 10 %)");

        var test = FashionMnist.Load(test: true, limit: 16);
        var loader = new BatchLoader(test, 16, seed: 0);
        var (images, _) = loader.InOrder().First();
        net.eval();
        using var expected = net.forward(images);
        var model = LayerExport.ToModel(net, [1, 1, 28, 28]);
        var ort = ParityModels.RunOrt(model, "input", [16, 1, 28, 28], images.data<float>().ToArray(), "output")["output"];
        Assert.True(ParityModels.MaxRelativeDifference(expected, ort) <= 1e-5);
    }

    [FashionMnistFact]
    public void SGD_with_augmentation_loss_falls_and_runs_with_one_seed_repeat_exactly()
    {
        var (train, _) = Data(512);
        var options = new TrainingOptions
        {
            Steps = 30, BatchSize = 32, Optimizer = OptimizerKind.Sgd, LearningRate = 0.05, Seed = 5,
            Augmentation = new Augmentation { Mean = [FashionMnist.Mean * 255], Scale = [1 / (FashionMnist.Deviation * 255)], Flip = true, MinCropArea = 0.6, Jitter = 0.2 },
        };
        TrainingSummary Once()
        {
            using var net = TinyCnn();
            return Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, null, options);
        }
        var first = Once();
        var second = Once();
        Assert.True(first.LastLoss < first.FirstLoss, $"loss {first.FirstLoss:F3} -> {first.LastLoss:F3}");
        Assert.Equal(first.LossHistory, second.LossHistory);
    }

    [FashionMnistFact]
    public void A_resumed_run_continues_exactly_where_the_checkpoint_left_off()
    {
        var (train, _) = Data(512);
        string checkpoint = Path.Combine(_folder, "run.ckpt");
        var options = new TrainingOptions { Steps = 20, BatchSize = 16, LearningRate = 0.01, Seed = 2, CheckpointPath = checkpoint, CheckpointEvery = 10 };

        TrainingSummary uninterrupted;
        using (var net = TinyCnn()) uninterrupted = Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, null, options with { CheckpointPath = null });

        using (var net = TinyCnn())
        using (var stop = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress(p => { if (p.Step == 10) stop.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => Trainer.Run(net, Objectives.CrossEntropy(net.forward), train, null, options, progress, stop.Token));
        }
        Assert.True(File.Exists(checkpoint));

        using var resumedNet = TinyCnn();
        var resumed = Trainer.Run(resumedNet, Objectives.CrossEntropy(resumedNet.forward), train, null, options with { Resume = true });
        Assert.Equal(10, resumed.ResumedFromStep);
        Assert.Equal(uninterrupted.LossHistory.Skip(10), resumed.LossHistory);
    }

    [FashionMnistFact]
    public void A_NaN_loss_stops_the_run_with_one_clear_error_and_saves_nothing()
    {
        var (train, _) = Data(256);
        string checkpoint = Path.Combine(_folder, "nan.ckpt");
        using var net = TinyCnn();
        TrainingObjective poisoned = (x, y) =>
        {
            var (loss, logits) = Objectives.CrossEntropy(net.forward)(x, y);
            return (loss * float.NaN, logits);
        };
        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Run(net, poisoned, train, null,
            new TrainingOptions { Steps = 5, BatchSize = 16, CheckpointPath = checkpoint, CheckpointEvery = 1 }));
        Assert.Equal(0, error.Step);
        Assert.Contains("diverged", error.Message);
        Assert.False(File.Exists(checkpoint));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void A_folder_without_images_is_refused_by_name()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_folder, "empty")).FullName;
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "not an image");
        var spec = Cleave.Models.Preprocessing.PreprocessingSpec.MinusOneToOne(32, 32, 1);
        var error = Assert.Throws<ArgumentException>(() => ImageFolderExamples.Unlabelled(empty, spec));
        Assert.Contains("no images", error.Message);
        Assert.Contains(empty, error.Message);
    }

    [Fact]
    public void The_cosine_schedule_warms_up_then_decays_to_its_floor()
    {
        var options = new TrainingOptions { Steps = 100, LearningRate = 0.1, WarmupSteps = 10, MinLearningRateFraction = 0.1 };
        Assert.Equal(0.01, options.LearningRateAt(0), 6);
        Assert.Equal(0.1, options.LearningRateAt(10), 6);
        Assert.Equal(0.055, options.LearningRateAt(55), 6);
        Assert.Equal(0.01, options.LearningRateAt(100), 6);
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
