using System.Diagnostics;
using System.Globalization;
using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Planning.Profiles;

/// <summary>What a calibration run measures: which cuts, which codec settings, which JPEG qualities, how many timing runs.</summary>
public sealed record ProfileOptions
{
    /// <summary>Cut tensors; empty: <see cref="CandidateCuts.Select"/> picks <see cref="MaxSplits"/> of them.</summary>
    public IReadOnlyList<string> Splits { get; init; } = [];
    public int MaxSplits { get; init; } = 5;

    public IReadOnlyList<string> Codecs { get; init; } = DefaultCodecs;
    public IReadOnlyList<int> JpegQualities { get; init; } = [50, 75, 90];

    /// <summary>Timed runs per latency median (after one warm-up).</summary>
    public int LatencyRuns { get; init; } = 9;

    /// <summary>
    /// From lossless-looking to hard: 8-bit and 4-bit uniform quantization with rANS, clipped 12 levels (≈ 17x at
    /// about 20 dB on MobileNetV2 features, docs/codecs.md), 3 and 2 bits for the slowest links.
    /// </summary>
    public static IReadOnlyList<string> DefaultCodecs { get; } =
        ["quant:bits=8,entropy=rans", "rans-ifc:bits=4", "rans-ifc:bits=6,levels=12,clip=6", "rans-ifc:bits=3", "rans-ifc:bits=2"];
}

/// <summary>
/// Measures a <see cref="PlanningProfile"/>: latency of the whole model and of each cut's halves on this machine
/// (medians, <see cref="LatencyProfiler"/>), and accuracy / bytes / coding time of every codec setting at every cut
/// over the calibration images (<see cref="SplitClassificationEval"/>), plus the JPEG full-offload points.
/// </summary>
public static class ProfileCollector
{
    public static PlanningProfile Collect(string modelPath, IReadOnlyList<LabelledImage> images, ProfileOptions options,
        Action<string>? progress = null)
    {
        if (images.Count == 0) throw new ArgumentException("the calibration set has no images");
        var codecs = options.Codecs.Select(FeatureCodecs.Create).ToList();
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var analysis = new SplitAnalysis(model);

        progress?.Invoke("choosing cuts");
        var report = ModelInspector.Inspect(analysis, Path.GetFileName(modelPath));
        var cuts = options.Splits.Count > 0 ? options.Splits : CandidateCuts.Select(report, options.MaxSplits);

        progress?.Invoke("timing preprocessing and the whole model");
        double preprocessMs = 0;
        int timed = Math.Min(images.Count, 16);
        float[] first = [];
        for (int i = 0; i < timed; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var x = ImagePreprocessor.Process(RgbImage.Load(images[i].Path), spec);
            preprocessMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i == 0) first = x;
        }
        preprocessMs /= timed;
        string inputName = model.Graph.Inputs.Contains(spec.InputName) ? spec.InputName : model.Graph.Inputs[0];
        long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
        var inputs = new Dictionary<string, HostTensor> { [inputName] = new HostTensor(OnnxElementType.Float, inputShape, first) };
        double fullMs = LatencyProfiler.MeasureModel(model.ToBytes(), inputs, options.LatencyRuns);

        double fullTop1 = double.NaN;
        var splits = new List<SplitProfile>();
        foreach (string cut in cuts)
        {
            progress?.Invoke($"timing the halves at {cut}");
            var split = ModelSplitter.Split(analysis, [cut]);
            var latency = LatencyProfiler.Measure(split, inputs, options.LatencyRuns);
            var point = report.SplitPoints.FirstOrDefault(p => p.Tensors.Count == 1 && p.Tensors[0] == cut);
            var points = new List<CodecPoint>();
            long fp32 = 0;
            IReadOnlyList<long> shape = analysis.ConcreteShape(cut) ?? [];
            foreach (var codec in codecs)
            {
                progress?.Invoke($"calibrating {codec.Spec} at {cut}");
                var r = SplitClassificationEval.Run(modelPath, cut, codec, images);
                fullTop1 = r.FullTop1;
                fp32 = (long)r.Float32Bytes;
                points.Add(new CodecPoint(codec.Spec, r.Top1, r.Agreement, r.BytesMean, r.BytesP95, r.EncodeMs, r.DecodeMs));
            }
            splits.Add(new SplitProfile
            {
                Tensor = cut, Shape = shape, HeadMacShare = point?.HeadMacShare ?? double.NaN,
                HeadMs = latency.HeadMilliseconds, TailMs = latency.TailMilliseconds, Fp32Bytes = fp32, Codecs = points,
            });
        }

        progress?.Invoke("calibrating JPEG full offload");
        var offload = JpegOffloadEval.Run(modelPath, images, options.JpegQualities);
        if (double.IsNaN(fullTop1))
            fullTop1 = SplitClassificationEval.Run(modelPath, null, FeatureCodecs.Create("raw"), images).FullTop1;

        return new PlanningProfile
        {
            Model = Path.GetFileName(modelPath),
            ModelSha256 = model.Sha256,
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            CreatedUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Images = images.Count,
            FullTop1 = fullTop1,
            FullMs = fullMs,
            PreprocessMs = preprocessMs,
            Splits = splits,
            Offload = offload,
        };
    }
}
