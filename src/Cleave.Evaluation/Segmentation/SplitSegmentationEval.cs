using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Segmentation;

/// <summary>
/// What one codec at one cut of a segmentation model did on labelled images, beside the unsplit model. Mean IoU is
/// averaged over images (each image's mean over the classes present in its prediction or truth); pixel agreement is
/// the share of pixels labelled as the unsplit model labels them. Bytes are whole frames, one per image.
/// </summary>
public sealed record SplitSegmentationResult(
    string Codec, string Split, int Images,
    double MeanIoU, double FullMeanIoU, double PixelAccuracy, double PixelAgreement,
    double BytesMean, double Float32Bytes, double HeadMs, double EncodeMs, double DecodeMs, double TailMs);

/// <summary>
/// In-process split segmentation: preprocess (as the imported model records) → head → codec → frame → decode →
/// tail → label map, scored by IoU against ground-truth masks. The head and the full model run once per image; each
/// codec then costs one encode, decode and tail run per image.
/// </summary>
public static class SplitSegmentationEval
{
    /// <param name="ignoreLabels">truth labels that are not scored (PASCAL VOC's 255 border, anti-aliased mask edges)</param>
    /// <param name="progress">called with (codec spec or "unsplit", image index) before each image</param>
    public static IReadOnlyList<SplitSegmentationResult> Run(string modelPath, string cutTensor, IReadOnlyList<FeatureCodec> codecs,
        IReadOnlyList<SegmentationSample> samples, IReadOnlyCollection<int> ignoreLabels, Action<string, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        if (samples.Count == 0) throw new ArgumentException("no images to evaluate");
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        var split = ModelSplitter.Split(model, [cutTensor]);
        if (split.Plan.TailGraphInputs.Any())
            throw new NotSupportedException($"the tail at '{cutTensor}' also needs {string.Join(", ", split.Plan.TailGraphInputs)}; only single-input tails are evaluated");
        using var full = new OrtModelRunner(model.ToBytes());
        using var head = new OrtModelRunner(split.Head.ToBytes());
        using var tail = new OrtModelRunner(split.Tail.ToBytes());
        string input = full.InputNames.Contains(spec.InputName) ? spec.InputName : full.InputNames[0];
        string output = full.OutputNames[0];
        int[] ignore = [.. ignoreLabels];

        var truths = new int[samples.Count][];
        var fullLabels = new int[samples.Count][];
        var features = new HostTensor[samples.Count];
        double fullIoU = 0, headMs = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            progress?.Invoke("unsplit", i);
            var pixels = ImagePreprocessor.Process(RgbImage.Load(samples[i].ImagePath), spec);
            long[] shape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];
            var inputs = new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, shape, pixels) };
            var prediction = full.Run(inputs, [output])[output];
            fullLabels[i] = LabelMap(prediction, out int width, out int height);
            truths[i] = samples[i].LoadLabels(width, height);
            fullIoU += SegmentationScore.Compute(fullLabels[i], truths[i], ignore).MeanIoU;
            long t0 = Stopwatch.GetTimestamp();
            features[i] = head.Run(inputs, [cutTensor])[cutTensor];
            headMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        int n = samples.Count;
        var results = new List<SplitSegmentationResult>(codecs.Count);
        foreach (var codec in codecs)
        {
            double iou = 0, accuracy = 0, agreement = 0, bytes = 0, floats = 0, encodeMs = 0, decodeMs = 0, tailMs = 0;
            for (int i = 0; i < n; i++)
            {
                progress?.Invoke(codec.Spec, i);
                var values = (float[])features[i].Data;
                var trip = CodecRoundTrip.Run(codec, values, features[i].Shape);
                bytes += trip.FrameBytes;
                floats += values.Length;
                encodeMs += trip.EncodeMs;
                decodeMs += trip.DecodeMs;
                long t0 = Stopwatch.GetTimestamp();
                var tailIn = new Dictionary<string, HostTensor> { [cutTensor] = new(OnnxElementType.Float, features[i].Shape, trip.Restored) };
                var labels = LabelMap(tail.Run(tailIn, [output])[output], out _, out _);
                tailMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                var score = SegmentationScore.Compute(labels, truths[i], ignore);
                iou += score.MeanIoU;
                accuracy += score.PixelAccuracy;
                agreement += Agreement(labels, fullLabels[i]);
            }
            results.Add(new SplitSegmentationResult(codec.Spec, cutTensor, n, iou / n, fullIoU / n, accuracy / n, agreement / n,
                bytes / n, 4 * floats / n, headMs / n, encodeMs / n, decodeMs / n, tailMs / n));
        }
        return results;
    }

    /// <summary>
    /// Class per pixel from the model's output: an integer map [1,H,W] as it is (DeepLab's ArgMax), or scores
    /// [1,C,H,W] (NCHW, our imports' layout) reduced by arg-max over C.
    /// </summary>
    public static int[] LabelMap(HostTensor output, out int width, out int height)
    {
        ArgumentNullException.ThrowIfNull(output);
        var shape = output.Shape;
        switch (output.Data)
        {
            case long[] or int[] when shape.Length == 3 && shape[0] == 1:
                height = checked((int)shape[1]);
                width = checked((int)shape[2]);
                var labels = new int[width * height];
                for (int i = 0; i < labels.Length; i++) labels[i] = checked((int)output.ValueAt(i));
                return labels;
            case float[] scores when shape.Length == 4 && shape[0] == 1:
                int classes = checked((int)shape[1]);
                height = checked((int)shape[2]);
                width = checked((int)shape[3]);
                int plane = width * height;
                var best = new int[plane];
                var bestScore = scores.AsSpan(0, plane).ToArray();
                for (int c = 1; c < classes; c++)
                    for (int p = 0; p < plane; p++)
                        if (scores[c * plane + p] > bestScore[p]) { bestScore[p] = scores[c * plane + p]; best[p] = c; }
                return best;
            default:
                throw new NotSupportedException($"a segmentation output must be integer labels [1,H,W] or float scores [1,C,H,W], got {output}");
        }
    }

    private static double Agreement(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int same = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) same++;
        return a.Length == 0 ? 1 : (double)same / a.Length;
    }
}
