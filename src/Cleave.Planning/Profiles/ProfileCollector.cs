using System.Globalization;
using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Evaluation.Studies;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;

namespace Cleave.Planning.Profiles;

/// <summary>What a calibration run measures: which cuts, which codec settings, which JPEG qualities, how many timing runs.</summary>
public sealed record ProfileOptions
{
    /// <summary>Cut tensors; empty: <see cref="CandidateCuts.Select"/> picks <see cref="MaxSplits"/> of them.</summary>
    public IReadOnlyList<string> Splits { get; init; } = [];
    public int MaxSplits { get; init; } = 5;

    public IReadOnlyList<string> Codecs { get; init; } = DefaultCodecs;
    public IReadOnlyList<int> JpegQualities { get; init; } = [50, 75, 90, 95];

    /// <summary>Interleaved timing rounds per latency median (after one warm-up round).</summary>
    public int LatencyRuns { get; init; } = 15;

    /// <summary>ONNX Runtime intra-op threads for the timings (the device and server of a plan run with the same).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// From lossless-looking to hard: 8-bit uniform quantization with rANS, then 4-bit, clipped 12 levels (≈ 17x at
    /// about 20 dB on MobileNetV2 features, docs/codecs.md), 3 and 2 bits for the slowest links, these with the
    /// spatial-context layout (<c>ctx=2d</c>: the same reconstruction in 2-17 % fewer bytes on CNN feature maps, for
    /// under a millisecond more at these bit depths).
    /// </summary>
    public static IReadOnlyList<string> DefaultCodecs { get; } =
    [
        "quant:bits=8,entropy=rans", "rans-ifc:bits=4,ctx=2d", "rans-ifc:bits=6,levels=12,clip=6,ctx=2d", "rans-ifc:bits=3,ctx=2d",
        "rans-ifc:bits=2,ctx=2d",
    ];
}

/// <summary>
/// Measures a <see cref="PlanningProfile"/>: latency of the whole model, of each cut's halves and of each codec on
/// this machine (<see cref="InterleavedTimer"/>), and accuracy / bytes of every codec setting at every cut and of
/// JPEG full offload over the calibration images (<see cref="ClassificationSweep"/>, the evaluation engine).
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

        progress?.Invoke("timing the whole model, every cut's halves and every codec (interleaved rounds)");
        var photo = RgbImage.Load(images[0].Path);
        var timing = InterleavedTimer.Measure(model, analysis, spec, photo, cuts, codecs, options.LatencyRuns, options.Threads);

        progress?.Invoke($"calibrating {cuts.Count} cuts x {codecs.Count} codecs and {options.JpegQualities.Count} JPEG qualities on {images.Count} images");
        var grid = new SweepGrid(cuts, [new CodecFamily("plan", [.. codecs.Select(c => c.Spec)])],
            [.. options.JpegQualities.Select(q => ImageBaseline.Parse($"jpeg:q={q.ToString(CultureInfo.InvariantCulture)}"))]);
        var sweep = ClassificationSweep.Run(modelPath, grid, images, spec);

        var splits = new List<SplitProfile>();
        for (int k = 0; k < cuts.Count; k++)
        {
            string cut = cuts[k];
            var point = report.SplitPoints.FirstOrDefault(p => p.Tensors.Count == 1 && p.Tensors[0] == cut);
            var points = new List<CodecPoint>();
            for (int j = 0; j < codecs.Count; j++)
            {
                var r = sweep.Points.First(p => p.IsSplit && p.Split == cut && p.Codec == codecs[j].Spec);
                points.Add(new CodecPoint(codecs[j].Spec, r.Top1, r.Agreement, r.BytesMean, r.BytesP95, timing.EncodeMs[k][j], timing.DecodeMs[k][j]));
            }
            splits.Add(new SplitProfile
            {
                Tensor = cut, Shape = analysis.ConcreteShape(cut) ?? [], HeadMacShare = point?.HeadMacShare ?? double.NaN,
                HeadMs = timing.HeadMs[k], TailMs = timing.TailMs[k], Fp32Bytes = (long)(analysis.BytesFp32([cut]) ?? 0), Codecs = points,
            });
        }
        var offload = new List<OffloadPoint>();
        foreach (int q in options.JpegQualities)
        {
            var r = sweep.Points.First(p => p.IsImageOffload && p.Codec == ImageBaseline.Parse($"jpeg:q={q.ToString(CultureInfo.InvariantCulture)}").Spec);
            offload.Add(new OffloadPoint(q, r.Top1, r.Agreement, r.BytesMean, r.BytesP95, r.EncodeMs, r.DecodeMs));
        }

        return new PlanningProfile
        {
            Model = Path.GetFileName(modelPath),
            ModelSha256 = model.Sha256,
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            CreatedUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Images = images.Count,
            InputShape = analysis.ConcreteShape(model.Graph.Inputs[0]) ?? [],
            Classes = (int)(analysis.ConcreteShape(model.Graph.Outputs[0]) is { Length: > 0 } output ? output[^1] : 0),
            CalibrationSha256 = CalibrationHash(images),
            FullTop1 = sweep.FullTop1,
            FullMs = timing.FullMs,
            PreprocessMs = timing.PreprocessMs,
            Splits = splits,
            Offload = offload,
        };
    }

    /// <summary>
    /// SHA-256 over the calibration images' file names (not their folder) and labels, in order: two profiles with the
    /// same hash measured their accuracies on the same labelled images, so their top-1 figures compare.
    /// </summary>
    public static string CalibrationHash(IReadOnlyList<LabelledImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var text = new System.Text.StringBuilder();
        foreach (var image in images) text.Append(Path.GetFileName(image.Path)).Append('\t').Append(image.ClassIndex.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The same profile with every compute time (preprocessing, whole model, halves, codecs) measured again now on
    /// this machine, accuracy and bytes kept: cheap (seconds), for when the load on the machine has changed since the
    /// calibration, e.g. just before a predicted-vs-measured run on a shared machine.
    /// </summary>
    public static PlanningProfile Retime(PlanningProfile profile, string modelPath, LabelledImage sample, int rounds = 15, int threads = 1)
    {
        using var timer = InterleavedTimer.ForProfile(profile, modelPath, RgbImage.Load(sample.Path), threads);
        while (timer.Rounds < rounds) timer.Round();
        return timer.Apply(profile);
    }
}
