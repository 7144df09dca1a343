using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Onnx;
using Cleave.Models.Preprocessing;
using Cleave.Models.Profiling;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Classification;

/// <summary>What one split classifier with one codec did on a labelled image set, beside the unsplit model.</summary>
public sealed record SplitClassificationResult(
    string Codec, string? Split, int Images,
    double Top1, double Top5, double FullTop1, double Agreement, double MeanKl,
    double BytesMean, double BytesP95, double Float32Bytes,
    double HeadMs, double EncodeMs, double DecodeMs, double TailMs);

/// <summary>
/// In-process split inference over labelled images: preprocess (as the model records) → head → codec → frame →
/// decode → tail, against the unsplit model on the same input. Bytes are whole frames (headers included).
/// </summary>
public static class SplitClassificationEval
{
    public static SplitClassificationResult Run(string modelPath, string? cutTensor, FeatureCodec codec,
        IReadOnlyList<LabelledImage> images, Action<int>? progress = null)
    {
        var model = OnnxModel.Load(modelPath);
        var spec = PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`)");
        using var full = new OrtModelRunner(model.ToBytes());
        string input = full.InputNames.Contains(spec.InputName) ? spec.InputName : full.InputNames[0];
        string output = full.OutputNames[0];

        SplitModels? split = cutTensor is null ? null : ModelSplitter.Split(model, [cutTensor]);
        if (split is not null && split.Plan.TailGraphInputs.Any())
            throw new NotSupportedException($"the tail at '{cutTensor}' also needs {string.Join(", ", split.Plan.TailGraphInputs)}; only single-input tails are evaluated so far");
        using var head = split is null ? null : new OrtModelRunner(split.Head.ToBytes());
        using var tail = split is null ? null : new OrtModelRunner(split.Tail.ToBytes());

        int top1 = 0, top5 = 0, fullTop1 = 0, agree = 0;
        double kl = 0, headMs = 0, encodeMs = 0, decodeMs = 0, tailMs = 0, floatBytes = 0;
        var sizes = new List<double>();
        for (int i = 0; i < images.Count; i++)
        {
            progress?.Invoke(i);
            var pixels = ImagePreprocessor.Process(RgbImage.Load(images[i].Path), spec);
            var x = new HostTensor(OnnxElementType.Float, [1, spec.Channels, spec.Height, spec.Width], pixels);
            var reference = (float[])full.Run(new Dictionary<string, HostTensor> { [input] = x }, [output])[output].Data;

            float[] scores;
            if (split is null)
            {
                scores = reference;
                sizes.Add(pixels.Length * 4.0);
            }
            else
            {
                long t0 = Stopwatch.GetTimestamp();
                var feature = head!.Run(new Dictionary<string, HostTensor> { [input] = x }, [cutTensor!])[cutTensor!];
                headMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                var values = (float[])feature.Data;
                var shape = new TensorShape(feature.Shape.Select(d => checked((int)d)).ToArray());
                floatBytes += values.Length * 4.0;

                t0 = Stopwatch.GetTimestamp();
                byte[] frame = codec.Encode(values, shape);
                encodeMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                t0 = Stopwatch.GetTimestamp();
                var restored = FeatureFrame.Decode(frame, out _);
                decodeMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                sizes.Add(frame.Length);

                t0 = Stopwatch.GetTimestamp();
                var tailIn = new HostTensor(OnnxElementType.Float, feature.Shape, restored);
                string tailOut = tail!.OutputNames[0];
                scores = (float[])tail.Run(new Dictionary<string, HostTensor> { [cutTensor!] = tailIn }, [tailOut])[tailOut].Data;
                tailMs += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }

            int label = ImageNetSample.OutputIndex(images[i].ClassIndex, scores.Length);
            var best = ImageNetSample.TopK(scores, 5);
            if (best[0] == label) top1++;
            if (Array.IndexOf(best, label) >= 0) top5++;
            int referenceBest = ImageNetSample.TopK(reference, 1)[0];
            if (referenceBest == label) fullTop1++;
            if (best[0] == referenceBest) agree++;
            kl += KlDivergence(reference, scores);
        }

        int n = Math.Max(1, images.Count);
        sizes.Sort();
        double p95 = sizes.Count == 0 ? 0 : sizes[Math.Min(sizes.Count - 1, (int)Math.Ceiling(0.95 * sizes.Count) - 1)];
        return new SplitClassificationResult(split is null ? "none (unsplit)" : codec.Spec, cutTensor, images.Count,
            (double)top1 / n, (double)top5 / n, (double)fullTop1 / n, (double)agree / n, kl / n,
            sizes.Count == 0 ? 0 : sizes.Average(), p95, floatBytes / n, headMs / n, encodeMs / n, decodeMs / n, tailMs / n);
    }

    /// <summary>
    /// KL(p || q) of two output vectors: used as probabilities when they already are (non-negative, summing to 1),
    /// else after a softmax (logit outputs). q is floored so a zero cannot give infinity.
    /// </summary>
    public static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        if (!IsDistribution(p) || !IsDistribution(q)) return KlDivergence(Softmax(p), Softmax(q));
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
            if (p[i] > 0) sum += p[i] * Math.Log(p[i] / Math.Max(q[i], 1e-12));
        return Math.Max(0, sum);
    }

    private static bool IsDistribution(ReadOnlySpan<float> v)
    {
        double total = 0;
        foreach (float x in v)
        {
            if (!(x >= 0)) return false;
            total += x;
        }
        return Math.Abs(total - 1) < 1e-3;
    }

    private static float[] Softmax(ReadOnlySpan<float> v)
    {
        float max = float.NegativeInfinity;
        foreach (float x in v) max = Math.Max(max, x);
        var result = new float[v.Length];
        double total = 0;
        for (int i = 0; i < v.Length; i++) total += result[i] = MathF.Exp(v[i] - max);
        for (int i = 0; i < v.Length; i++) result[i] = (float)(result[i] / total);
        return result;
    }
}
