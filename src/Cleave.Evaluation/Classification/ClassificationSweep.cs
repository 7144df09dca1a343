using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;
using Cleave.Runtime;
using Cleave.Runtime.Client;

namespace Cleave.Evaluation.Classification;

/// <summary>
/// Runs a <see cref="SweepGrid"/> over labelled images in-process: preprocess → unsplit model (the reference), then
/// for each split head → (each codec: encode → frame → decode → tail), and for each image baseline
/// resize → encode → decode → whole model. Images are the outer loop, so each head runs once per image per split and
/// every codec at a split is compared on the same feature tensor, without holding features in memory.
/// </summary>
public static class ClassificationSweep
{
    public static SweepResult Run(string modelPath, SweepGrid grid, IReadOnlyList<LabelledImage> images,
        PreprocessingSpec? preprocessing = null, Action<int, string>? progress = null, CameraShift? shift = null)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(images);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var model = OnnxModel.Load(modelPath);
        var spec = preprocessing ?? PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`, or give one)");
        var analysis = new SplitAnalysis(model);
        var cost = new ModelCost(analysis);

        var disposables = new List<IDisposable>();
        try
        {
            var full = Track(new OrtModelRunner(model.ToBytes()));
            string input = full.InputNames.Contains(spec.InputName) ? spec.InputName : full.InputNames[0];
            string output = full.OutputNames[0];
            long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];

            var cuts = new List<Cut>();
            void AddCut(string label, string tensor, OnnxModel headModel, OnnxModel tailModel, double fp32, long headParams, long headMacs, DeviceExit? exit = null)
            {
                long tailMacs = exit is null ? 0 : new ModelCost(new SplitAnalysis(tailModel)).TotalMacs;
                var head = Track(new OrtModelRunner(headModel.ToBytes()));
                var tail = Track(new OrtModelRunner(tailModel.ToBytes()));
                var codecs = new List<(FeatureCodec Codec, PointAccumulator Acc)>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                void AddCodec(string specText, string family)
                {
                    var codec = FeatureCodecs.Create(specText);
                    if (seen.Add(codec.Spec))
                        codecs.Add((codec, new PointAccumulator("split", label, codec.Spec, family, fp32, headParams, headMacs)
                        {
                            Exit = exit is null ? null : new ExitTally(exit.Threshold, grid.ExitThreshold.Value is null, tailMacs, exit.Manifest.Calibration),
                        }));
                }
                AddCodec("raw", "float32");
                foreach (var family in grid.Codecs)
                    foreach (string s in family.Specs) AddCodec(s, family.Label);
                cuts.Add(new Cut(tensor, head, tail, tail.OutputNames[0], codecs, exit));
            }
            foreach (string tensor in grid.Splits)
            {
                var split = ModelSplitter.Split(analysis, [tensor]);
                var extra = split.Plan.TailGraphInputs.Concat(split.Plan.AuxiliaryTensors).ToList();
                if (extra.Count > 0)
                    throw new NotSupportedException($"the tail at '{tensor}' also needs {string.Join(", ", extra)}; only single-input tails are evaluated");
                var (headParams, headMacs) = cost.Head(split.Plan);
                double fp32 = (analysis.BytesFp32([tensor]) ?? 0);
                AddCut(tensor, tensor, split.Head, split.Tail, fp32, headParams, headMacs);
            }
            foreach (string folder in grid.SplitFolders)
            {
                // A split folder made elsewhere (possibly with trained layers at the cut): its own halves, the same reference.
                var manifest = SplitManifest.Load(Path.Combine(folder, "split.json"));
                if (manifest.Cut.Count != 1 || manifest.SideInputs.Count > 0)
                    throw new NotSupportedException($"'{folder}' cuts {manifest.Cut.Count} tensors or has side inputs; only single-input tails are evaluated");
                var headModel = OnnxModel.Load(Path.Combine(folder, manifest.HeadFile));
                var headCost = new ModelCost(new SplitAnalysis(headModel));
                // The device's early exit, when the folder has one: loaded (and checked) as a device loads it.
                var exit = grid.ExitThreshold.Off ? null : DeviceExit.Load(SplitDirectory.Load(folder), grid.ExitThreshold.Value);
                if (exit is not null) Track(exit);
                else if (grid.ExitThreshold.Given && !grid.ExitThreshold.Off)
                    throw new InvalidOperationException($"an exit threshold ({grid.ExitThreshold}) was given but '{folder}' holds no {ExitManifest.FileName} (train one with `cleave train exit`)");
                AddCut($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}:{manifest.Cut[0].Name}", manifest.Cut[0].Name, headModel,
                    OnnxModel.Load(Path.Combine(folder, manifest.TailFile)), manifest.Cut[0].BytesFp32 ?? 0, headCost.TotalParams, headCost.TotalMacs, exit);
            }
            if (grid.ExitThreshold.Given && !grid.ExitThreshold.Off && grid.SplitFolders.Count == 0)
                throw new InvalidOperationException($"an exit threshold ({grid.ExitThreshold}) applies to split folders with an exit: give one (--split-dir)");
            var baselines = grid.Baselines.Distinct().Select(b => (Baseline: b, Acc: new PointAccumulator(b.Kind, null, b.Spec, b.Kind, 0,
                b.Kind == "local" ? cost.TotalParams : 0, b.Kind == "local" ? cost.TotalMacs : 0))).ToList();
            var serverSpec = ImageBaseline.ServerSpec(spec);

            int fullTop1 = 0, fullTop5 = 0;
            for (int i = 0; i < images.Count; i++)
            {
                progress?.Invoke(i, Path.GetFileName(images[i].Path));
                var image = RgbImage.Load(images[i].Path);
                if (shift is not null) image = shift.Apply(image, Path.GetFileName(images[i].Path));
                var pixels = ImagePreprocessor.Process(image, spec);
                long t0 = Stopwatch.GetTimestamp();
                var reference = RunModel(full, input, output, inputShape, pixels);
                double fullMs = Ms(t0);
                int label = ImageNetSample.OutputIndex(images[i].ClassIndex, reference.Length);
                var referenceBest = ImageNetSample.TopK(reference, 5);
                if (referenceBest[0] == label) fullTop1++;
                if (Array.IndexOf(referenceBest, label) >= 0) fullTop5++;

                foreach (var cut in cuts)
                {
                    t0 = Stopwatch.GetTimestamp();
                    var feature = cut.Head.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) }, [cut.Tensor])[cut.Tensor];
                    double headMs = Ms(t0);
                    var values = (float[])feature.Data;
                    var shape = new TensorShape(feature.Shape.Select(d => checked((int)d)).ToArray());
                    // The exit decides once per image; every codec at this cut sees the same decision.
                    float[]? exitScores = null;
                    var answer = cut.Exit?.Decide(values, feature.Shape, out exitScores);
                    if (answer is not null)
                    {
                        exitScores = SplitClassificationEval.Softmax(exitScores);
                        headMs += answer.ExitMs;
                    }
                    foreach (var (codec, acc) in cut.Codecs)
                    {
                        t0 = Stopwatch.GetTimestamp();
                        byte[] frame = codec.Encode(values, shape);
                        double encodeMs = Ms(t0);
                        t0 = Stopwatch.GetTimestamp();
                        var restored = FeatureFrame.Decode(frame, out _);
                        double decodeMs = Ms(t0);
                        t0 = Stopwatch.GetTimestamp();
                        var scores = (float[])cut.Tail.Run(new Dictionary<string, HostTensor> { [cut.Tensor] = new(OnnxElementType.Float, feature.Shape, restored) }, [cut.TailOutput])[cut.TailOutput].Data;
                        double tailMs = Ms(t0);
                        if (answer is null)
                        {
                            acc.Add(scores, reference, referenceBest[0], images[i].ClassIndex, frame.Length, headMs, encodeMs, decodeMs, tailMs);
                            continue;
                        }
                        // The frame is still made and served here only to measure what an exit saves: nothing is sent for it.
                        bool right = answer.Exited
                            ? acc.Add(exitScores, reference, referenceBest[0], images[i].ClassIndex, 0, headMs, 0, 0, 0)
                            : acc.Add(scores, reference, referenceBest[0], images[i].ClassIndex, frame.Length, headMs, encodeMs, decodeMs, tailMs);
                        acc.Exit!.Count(answer.Exited, right, frame.Length, decodeMs + tailMs, answer.ExitMs);
                    }
                }

                RgbImage? resized = null;
                foreach (var (baseline, acc) in baselines)
                {
                    if (baseline.Kind == "local")
                    {
                        acc.Add(reference, reference, referenceBest[0], images[i].ClassIndex, 0, fullMs, 0, 0, 0);
                        continue;
                    }
                    t0 = Stopwatch.GetTimestamp();
                    resized ??= ImageBaseline.ResizeForModel(image, spec);
                    byte[] file = baseline.Encode(resized);
                    double encodeMs = Ms(t0);
                    t0 = Stopwatch.GetTimestamp();
                    var received = ImagePreprocessor.Process(RgbImage.Decode(file), serverSpec);
                    double decodeMs = Ms(t0);
                    t0 = Stopwatch.GetTimestamp();
                    var scores = RunModel(full, input, output, inputShape, received);
                    double tailMs = Ms(t0);
                    acc.Add(scores, reference, referenceBest[0], images[i].ClassIndex, file.Length, 0, encodeMs, decodeMs, tailMs);
                }
            }

            double n = Math.Max(1, images.Count);
            var points = cuts.SelectMany(c => c.Codecs.Select(x => x.Acc.ToPoint())).Concat(baselines.Select(b => b.Acc.ToPoint())).ToList();
            return new SweepResult
            {
                Model = Path.GetFileName(modelPath), Images = images.Count, FullTop1 = fullTop1 / n, FullTop5 = fullTop5 / n,
                TotalMacs = cost.TotalMacs, TotalParams = cost.TotalParams, Points = points,
                StartedUtc = started, ElapsedSeconds = clock.Elapsed.TotalSeconds,
            };
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
        }

        T Track<T>(T d) where T : IDisposable { disposables.Add(d); return d; }

    }

    private static float[] RunModel(OrtModelRunner runner, string input, string output, long[] shape, float[] pixels) =>
        (float[])runner.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, shape, pixels) }, [output])[output].Data;

    private static double Ms(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;

    private sealed record Cut(string Tensor, OrtModelRunner Head, OrtModelRunner Tail, string TailOutput,
        List<(FeatureCodec Codec, PointAccumulator Acc)> Codecs, DeviceExit? Exit);
}
