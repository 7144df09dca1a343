using Cleave.Codecs;
using Cleave.Evaluation.Classification;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;
using Cleave.Models.Preprocessing;
using Cleave.Models.Splitting;

namespace Cleave.Evaluation.Calibration;

/// <summary>What <see cref="ChannelSensitivity.Measure"/> found: one weight per channel of the cut tensor.</summary>
/// <param name="Sensitivity">Mean KL(tail output ‖ output with noise in channel c) per unit of relative noise variance.</param>
/// <param name="NoiseStd">The noise's standard deviation, relative to each feature tensor's own standard deviation.</param>
public sealed record ChannelSensitivityResult(string Tensor, IReadOnlyList<int> Shape, IReadOnlyList<double> Sensitivity, double NoiseStd, int Images)
{
    /// <summary>The <c>rans-ifc</c> gains these weights call for: g_c ∝ w_c^exponent (0.5 minimizes the weighted error at high rate).</summary>
    public ChannelGains Gains(double exponent = 0.5) => ChannelGains.FromSensitivities(Sensitivity.ToArray(), exponent);
}

/// <summary>
/// Measures how much the tail of a split image model cares about each channel of the cut tensor, training-free: for
/// every calibration image the head's feature goes through the tail once as it is and once per channel with uniform
/// noise added to that channel only; the KL divergence between the two outputs, averaged over images, is the
/// channel's weight. No gradients, no labels (any photos will do), and the evaluation images need not be seen.
/// Why perturbation and not gradients: it measures the tail as the codec's error will meet it (finite noise through
/// ReLU6 clamps and the softmax), and it needs nothing but ONNX Runtime.
/// </summary>
public static class ChannelSensitivity
{
    /// <param name="relativeNoiseStd">Noise standard deviation as a fraction of the feature's standard deviation; 0.35 is
    /// about a 6-level grid's quantization noise over ±3 std (step 1.2 std, noise std step/√12).</param>
    public static ChannelSensitivityResult Measure(string modelPath, string tensor, IReadOnlyList<string> images,
        PreprocessingSpec? preprocessing = null, double relativeNoiseStd = 0.35, int seed = 1, Action<int, string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("calibration needs at least one image", nameof(images));
        if (!(relativeNoiseStd > 0 && relativeNoiseStd <= 10)) throw new ArgumentOutOfRangeException(nameof(relativeNoiseStd), relativeNoiseStd, "noise must be in (0, 10]");
        var model = OnnxModel.Load(modelPath);
        var spec = preprocessing ?? PreprocessingSpec.FromMetadata(model.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value))
            ?? throw new InvalidOperationException($"'{modelPath}' records no preprocessing (import it with `cleave import`, or give one)");
        var split = ModelSplitter.Split(model, [tensor]);
        using var head = new OrtModelRunner(split.Head.ToBytes());
        using var tail = new OrtModelRunner(split.Tail.ToBytes());
        if (tail.InputNames.Count != 1)
            throw new NotSupportedException($"the tail at '{tensor}' has {tail.InputNames.Count} inputs; only single-input tails are calibrated");
        string input = head.InputNames.Contains(spec.InputName) ? spec.InputName : head.InputNames[0];
        string output = tail.OutputNames[0];
        long[] inputShape = spec.Layout == "NCHW" ? [1, spec.Channels, spec.Height, spec.Width] : [1, spec.Height, spec.Width, spec.Channels];

        var random = new Random(seed);
        double[]? sums = null;
        int[] shape = [];
        for (int i = 0; i < images.Count; i++)
        {
            progress?.Invoke(i, Path.GetFileName(images[i]));
            var pixels = ImagePreprocessor.Process(RgbImage.Load(images[i]), spec);
            var feature = head.Run(new Dictionary<string, HostTensor> { [input] = new(OnnxElementType.Float, inputShape, pixels) }, [tensor])[tensor];
            if (feature.Data is not float[] values)
                throw new NotSupportedException($"cut tensor '{tensor}' is {OnnxElementType.Name(feature.ElementType)}, only float features are calibrated");
            shape = feature.Shape.Select(d => checked((int)d)).ToArray();
            if (shape.Length < 3) throw new NotSupportedException($"cut tensor '{tensor}' has rank {shape.Length}; channel calibration needs rank >= 3 (channels at axis rank-3)");
            int channels = shape[^3], plane = shape[^1] * shape[^2];
            sums ??= new double[channels];
            if (sums.Length != channels) throw new InvalidOperationException($"'{tensor}' changed its channel count between images");

            var reference = RunTail(tail, tensor, output, feature.Shape, values);
            double amplitude = relativeNoiseStd * StandardDeviation(values) * Math.Sqrt(3); // uniform on ±a has std a/√3
            var perturbed = new float[values.Length];
            for (int c = 0; c < channels; c++)
            {
                values.CopyTo(perturbed, 0);
                // The same plane of each image's period repeats for every channel of a batch dimension > 1.
                for (int start = c * plane; start < values.Length; start += channels * plane)
                    for (int j = start; j < start + plane; j++)
                        perturbed[j] += (float)((2 * random.NextDouble() - 1) * amplitude);
                var scores = RunTail(tail, tensor, output, feature.Shape, perturbed);
                sums[c] += SplitClassificationEval.KlDivergence(reference, scores);
            }
        }
        double variance = relativeNoiseStd * relativeNoiseStd;
        var sensitivity = sums!.Select(s => s / images.Count / variance).ToArray();
        return new ChannelSensitivityResult(tensor, shape, sensitivity, relativeNoiseStd, images.Count);
    }

    private static float[] RunTail(OrtModelRunner tail, string tensor, string output, long[] shape, float[] values) =>
        (float[])tail.Run(new Dictionary<string, HostTensor> { [tensor] = new(OnnxElementType.Float, shape, values) }, [output])[output].Data;

    private static double StandardDeviation(ReadOnlySpan<float> values)
    {
        double sum = 0, squares = 0;
        int count = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            sum += v;
            squares += (double)v * v;
            count++;
        }
        if (count == 0) return 0;
        double mean = sum / count;
        return Math.Sqrt(Math.Max(0, squares / count - mean * mean));
    }
}
