using Cleave.Evaluation.Datasets;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Models.Tests;
using Cleave.Training.Loop;
using Cleave.Training.Tasks;

namespace Cleave.Training.Tests;

/// <summary>A second task tail on MobileNetV2's cut: WordNet coarse categories, and a short real training run (smoke).</summary>
public sealed class TaskTailTests : IDisposable
{
    private const string Cut = "MobilenetV2/expanded_conv_9/add";
    private readonly string _folder = Directory.CreateTempSubdirectory("cleave-task-tail-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Wnids => TestAssets.Path("vision", "imagenet_wnids.txt");

    [WordNetFact]
    public void ImageNet_classes_fall_into_their_WordNet_hypernym_at_a_fixed_depth()
    {
        var wnids = ImageFolder.ReadWnids(Wnids);
        var wordNet = WordNetNouns.Load();
        var coarse = CoarseCategories.FromWordNet(wordNet, wnids, depth: 6);
        Assert.Equal(1000, coarse.CategoryOfClass.Count);
        Assert.Equal(83, coarse.Count);
        string Of(string wnid) => coarse.Names[coarse.CategoryOfClass[wnids.ToList().IndexOf(wnid)]];
        Assert.Equal("animal", Of("n01440764"));     // tench
        Assert.Equal("animal", Of("n02085620"));     // Chihuahua
        Assert.Equal(Of("n04037443"), Of("n03100240")); // racer and convertible: one category
        Assert.NotEqual(Of("n01440764"), Of("n04037443"));
        // Depth 0 is the root for everything.
        Assert.Equal(1, CoarseCategories.FromWordNet(wordNet, wnids, depth: 0).Count);
    }

    [WordNetFact]
    public void A_few_steps_train_a_coarse_tail_that_ONNX_Runtime_runs_and_the_manifest_lists()
    {
        var (model, spec) = ParityModels.Import("mobilenet_v2_1.0_224_quant.tflite");
        string modelPath = Path.Combine(_folder, "mnv2.onnx");
        model.Save(modelPath);
        string split = Path.Combine(_folder, "split");
        ModelSplitter.Split(new SplitAnalysis(OnnxModel.Load(modelPath)), [Cut], "mnv2.onnx").Save(split);
        string hash = SplitManifest.Load(Path.Combine(split, "split.json")).ComputeHash();
        string train = Folder("train", skip: 0, count: 12), eval = Folder("eval", skip: 500, count: 6);

        var result = TaskTailTraining.Run(new TaskTailRequest
        {
            SplitDirectory = split, TaskName = "coarse", Data = train, WnidsFile = Wnids, WordNetDepth = 6, EvaluationData = eval,
            Width = 8, ValidationFraction = 0.25,
            Options = new TrainingOptions { Steps = 3, BatchSize = 4, LearningRate = 3e-3, Seed = 1 },
        });

        Assert.Equal(3, result.Summary.Steps);
        Assert.True(double.IsFinite(result.Summary.LastLoss));
        Assert.Equal(83, result.Classes);
        Assert.Equal(6, result.EvaluationImages);
        Assert.InRange(result.EvaluationTop1!.Value, 0, 1);
        // The first 6 images of the second half are fish and birds; the pretrained tail gets "animal" right for most.
        Assert.InRange(result.DefaultTailTop1!.Value, 0.5, 1);

        var manifest = SplitManifest.Load(Path.Combine(split, "split.json"));
        Assert.Equal(hash, manifest.ComputeHash());
        Assert.Equal([SplitManifest.DefaultTaskName, "coarse"], manifest.Tasks.Select(t => t.Name));
        var task = manifest.Tasks[1];
        Assert.Equal(83, File.ReadAllLines(Path.Combine(split, task.Labels!)).Length);
        using var runner = new OrtModelRunner(File.ReadAllBytes(Path.Combine(split, task.File)));
        var features = ParityModels.RunOrt(OnnxModel.Load(Path.Combine(split, manifest.HeadFile)), "input", [2, 3, 224, 224],
            ParityModels.Images(spec, 2), Cut)[Cut];
        var scores = runner.Run(new Dictionary<string, HostTensor> { [Cut] = features })[runner.OutputNames[0]];
        Assert.Equal([2L, 83L], scores.Shape);
    }

    /// <summary>A folder of links to <paramref name="count"/> sample images from the <paramref name="skip"/>-th on (name order).</summary>
    private string Folder(string name, int skip, int count)
    {
        string folder = Path.Combine(_folder, name);
        Directory.CreateDirectory(folder);
        foreach (string image in Directory.GetFiles(TestAssets.Path("imagenet-sample")).Order(StringComparer.Ordinal).Skip(skip).Take(count))
            File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(image)), image);
        return folder;
    }
}
