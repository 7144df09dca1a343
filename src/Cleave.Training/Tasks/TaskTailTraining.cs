using System.Diagnostics;
using System.Security.Cryptography;
using Cleave.Codecs.IO;
using Cleave.Evaluation.Datasets;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Training.Data;
using Cleave.Training.Export;
using Cleave.Training.Layers;
using Cleave.Training.Loop;
using static TorchSharp.torch;

namespace Cleave.Training.Tasks;

/// <summary>
/// <c>cleave train task-tail</c>: trains a new tail for another task on the cut of an existing split (Ladon,
/// MTL-Split: one head, one transmitted feature, one tail per task). The head stays frozen (its cut tensors are
/// computed once with ONNX Runtime, <see cref="CachedHeadFeatures"/>), the tail (3x3 conv-BN-ReLU, strided 3x3
/// conv-BN-ReLU, global average pool, linear) trains with the engine's <see cref="Trainer"/>, and is written as ONNX
/// beside tail.onnx and listed in split.json's tasks. The manifest hash does not change: clients keep working and
/// may ask for the new task.
/// </summary>
public static class TaskTailTraining
{
    public static TaskTailResult Run(TaskTailRequest request, IProgress<TrainingProgress>? progress = null, Action<string>? log = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Validate();
        var manifestPath = Path.Combine(request.SplitDirectory, "split.json");
        var manifest = SplitManifest.Load(manifestPath);
        if (manifest.Cut.Count != 1 || manifest.SideInputs.Count > 0 || manifest.TailStateInputs.Count > 0)
            throw new NotSupportedException("a task tail needs a split with one cut tensor and no side or state inputs");
        var probe = new SplitTask { Name = request.TaskName, File = TaskFile(request.TaskName), Labels = LabelsFile(request.TaskName) };
        probe.Validate();
        if (request.TaskName == manifest.EffectiveTasks()[0].Name)
            throw new ArgumentException($"'{request.TaskName}' is the split's default task (tail.onnx); give the new task another name");
        string cut = manifest.Cut[0].Name;
        var head = OnnxModel.Load(Path.Combine(request.SplitDirectory, manifest.HeadFile));
        var spec = PreprocessingSpec.FromMetadata(head.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException("the split's head records no preprocessing (split a model imported with `cleave import`)");

        var (labelMap, classNames) = Labelling(request);
        var clock = Stopwatch.StartNew();
        var trainFeatures = Features(head, cut, request.Data, request.WnidsFile, spec, labelMap, classNames.Count, log);
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        log?.Invoke($"cached {trainFeatures.Count} cut tensors of shape [{string.Join(",", trainFeatures.ExampleShape)}] in {cacheSeconds:F0}s");
        var (train, validation) = ExampleSubset.Split(trainFeatures, request.ValidationFraction, request.Options.Seed);

        TorchRuntime.Initialise();
        manual_seed(request.Options.Seed);
        long channels = trainFeatures.ExampleShape[0];
        int w = request.Width;
        using var tail = new SequentialLayer(
            new Conv2dLayer(channels, w, 3), new BatchNorm2dLayer(w), new ActivationLayer(),
            new Conv2dLayer(w, 2 * w, 3, stride: 2), new BatchNorm2dLayer(2 * w), new ActivationLayer(),
            new PoolLayer(PoolKind.GlobalAverage), new LinearLayer(2 * w, classNames.Count));
        var summary = Trainer.Run(tail, Objectives.CrossEntropy(tail.forward), train, validation.Count > 0 ? validation : null, request.Options, progress, cancellation);
        long parameters = tail.parameters().Sum(p => p.numel());

        // The tail reads the cut tensor by its own name, as tail.onnx does, so the server feeds both the same input.
        var model = LayerExport.ToModel(tail, [1, .. trainFeatures.ExampleShape], inputName: cut, outputName: $"{request.TaskName}_logits");
        byte[] bytes = model.ToBytes();
        AtomicFile.WriteAllBytes(Path.Combine(request.SplitDirectory, probe.File), bytes);
        AtomicFile.Write(Path.Combine(request.SplitDirectory, probe.Labels!), s => s.Write(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", classNames) + "\n")));
        var task = new SplitTask
        {
            Name = request.TaskName, File = probe.File, Kind = SplitTask.ClassesKind, Labels = probe.Labels,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        };
        var tasks = manifest.EffectiveTasks().Where(t => t.Name != task.Name).Append(task).ToList();
        var updated = manifest.WithTasks(tasks);
        AtomicFile.Write(manifestPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(updated.ToJson() + "\n")));
        log?.Invoke($"wrote {probe.File} ({bytes.Length:N0} bytes, {parameters:N0} parameters) and added task '{task.Name}' to {manifestPath}");

        if (request.EvaluationData is null)
            return new TaskTailResult(summary, Path.GetFullPath(Path.Combine(request.SplitDirectory, probe.File)), classNames.Count, parameters, 0, null, null, null, cacheSeconds);
        var eval = Features(head, cut, request.EvaluationData, request.WnidsFile, spec, null, 0, log);
        var (top1, fromDefault, majority) = Evaluate(request.SplitDirectory, manifest, bytes, eval, labelMap, train);
        return new TaskTailResult(summary, Path.GetFullPath(Path.Combine(request.SplitDirectory, probe.File)), classNames.Count, parameters,
            eval.Count, top1, fromDefault, majority, cacheSeconds);
    }

    public static string TaskFile(string name) => $"task-{name}.onnx";

    public static string LabelsFile(string name) => $"task-{name}.labels.txt";

    /// <summary>The map from the folder's classes to the task's, and the task's class names (identity for the folder's own labels).</summary>
    private static (IReadOnlyList<int> Map, IReadOnlyList<string> Names) Labelling(TaskTailRequest request)
    {
        if (request.WordNetDepth is int depth)
        {
            if (request.WnidsFile is null) throw new ArgumentException("a WordNet category task needs the wnid list (--wnids)");
            var coarse = CoarseCategories.FromWordNet(WordNetNouns.Load(request.WordNetPath), ImageFolder.ReadWnids(request.WnidsFile), depth);
            return (coarse.CategoryOfClass, coarse.Names);
        }
        var images = ImageFolder.Load(request.Data, request.WnidsFile);
        int classes = images.Max(i => i.ClassIndex) + 1;
        return (Enumerable.Range(0, classes).ToArray(), [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    /// <summary>The head's cut tensors of a folder's images, labelled with the folder's classes (or the task's, through <paramref name="map"/>).</summary>
    private static IExampleSet Features(OnnxModel head, string cut, string folder, string? wnids, PreprocessingSpec spec, IReadOnlyList<int>? map, int classes,
        Action<string>? log)
    {
        int fine = ImageFolder.Load(folder, wnids).Max(i => i.ClassIndex) + 1;
        if (map is not null) fine = Math.Max(fine, map.Count);
        IExampleSet images = ImageFolderExamples.Labelled(folder, wnids, spec, fine);
        if (map is not null) images = new RelabelledExamples(images, map, classes);
        return CachedHeadFeatures.Compute(head, cut, images, progress: new Progress<int>(n => { if (n % 100 == 0) log?.Invoke($"head features: {n}/{images.Count}"); }));
    }

    /// <summary>
    /// Top-1 on the evaluation images (their fine labels mapped to the task's): the new tail through ONNX Runtime (the
    /// exported model the server runs), the default tail's top class mapped the same way, and the most frequent
    /// training class.
    /// </summary>
    private static (double Top1, double? FromDefault, double Majority) Evaluate(string directory, SplitManifest manifest, byte[] taskModel,
        IExampleSet eval, IReadOnlyList<int> map, IExampleSet train)
    {
        var counts = new int[map.Max() + 1];
        for (int i = 0; i < train.Count; i++) counts[train.Label(i)]++;
        int majorityClass = Array.IndexOf(counts, counts.Max());
        using var taskRunner = new OrtModelRunner(taskModel, TorchRuntime.DefaultThreads);
        using var defaultRunner = new OrtModelRunner(File.ReadAllBytes(Path.Combine(directory, manifest.TailFile)), TorchRuntime.DefaultThreads);
        string input = manifest.Cut[0].Name;
        var sample = new float[eval.ExampleShape.Aggregate(1L, (a, b) => a * b)];
        int correct = 0, correctFromDefault = 0, correctMajority = 0, labelled = 0;
        bool defaultMaps = true;
        for (int i = 0; i < eval.Count; i++)
        {
            int fine = eval.Label(i);
            if (fine < 0 || fine >= map.Count) continue;
            labelled++;
            int truth = map[fine];
            eval.Fill(i, sample);
            var inputs = new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, [1, .. eval.ExampleShape], (float[])sample.Clone()) };
            var scores = (float[])taskRunner.Run(inputs).First().Value.Data;
            if (ImageNetSample.TopK(scores, 1)[0] == truth) correct++;
            var defaultScores = (float[])defaultRunner.Run(inputs).First().Value.Data;
            int top = ImageNetSample.TopK(defaultScores, 1)[0];
            // A 1001-output ImageNet tail puts class c at output c + 1 (output 0: background).
            int defaultClass = defaultScores.Length == map.Count + 1 ? top - 1 : defaultScores.Length == map.Count ? top : int.MinValue;
            if (defaultClass == int.MinValue) defaultMaps = false;
            else if (defaultClass >= 0 && map[defaultClass] == truth) correctFromDefault++;
            if (truth == majorityClass) correctMajority++;
        }
        if (labelled == 0) throw new ArgumentException("no evaluation image has a class the task knows");
        return ((double)correct / labelled, defaultMaps ? (double)correctFromDefault / labelled : null, (double)correctMajority / labelled);
    }
}
