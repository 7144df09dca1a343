using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Codecs.Analysis;
using Cleave.Codecs.Npy;

namespace Cleave.Evaluation.Studies;

/// <summary>A named collection of real feature tensors (e.g. one split point's dumps).</summary>
public sealed record TensorSet(string Name, IReadOnlyList<string> Files)
{
    /// <summary>All <c>.npy</c> files of a folder, in name order.</summary>
    public static TensorSet FromFolder(string name, string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"tensor folder '{folder}' does not exist");
        var files = Directory.GetFiles(folder, "*.npy").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new ArgumentException($"tensor folder '{folder}' holds no .npy files");
        return new TensorSet(name, files);
    }
}

/// <summary>One codec setting measured over every tensor of a set.</summary>
public sealed record RateDistortionPoint(
    string Set, string Family, string Codec, int Tensors, long Elements, long Bytes,
    double BitsPerElement, double RatioVsFloat32, double SnrDb, double MinSnrDb, double RelativeMse,
    double EncodeMsMean, double DecodeMsMean);

/// <summary>
/// Runs codec settings over sets of real tensors: bytes are frame bytes (headers included) summed over the set;
/// SNR and relative MSE are computed over the whole set's signal and noise energy (and the worst tensor's SNR is
/// kept, since a target must hold per tensor).
/// </summary>
public static class RateDistortionStudy
{
    public static List<RateDistortionPoint> Run(IReadOnlyList<TensorSet> sets, IReadOnlyList<CodecFamily> families,
        Action<string>? progress = null)
    {
        var codecs = families.SelectMany(f => f.Specs.Select(s => (family: f.Label, codec: FeatureCodecs.Create(s)))).ToList();
        var results = new List<RateDistortionPoint>();
        foreach (var set in sets)
        {
            var tensors = set.Files.Select(f => NpyFile.ReadFloat32(f)).ToList();
            foreach (var (family, codec) in codecs)
            {
                progress?.Invoke($"{set.Name}: {codec.Spec}");
                results.Add(Measure(set.Name, family, codec, tensors));
            }
        }
        return results;
    }

    public static RateDistortionPoint Measure(string set, string family, FeatureCodec codec, IReadOnlyList<(float[] Values, TensorShape Shape)> tensors)
    {
        long bytes = 0, elements = 0;
        double signal = 0, noise = 0, minSnr = double.PositiveInfinity, encodeMs = 0, decodeMs = 0;
        float[] decoded = [];
        foreach (var (values, shape) in tensors)
        {
            long start = Stopwatch.GetTimestamp();
            byte[] frame = codec.Encode(values, shape);
            encodeMs += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (decoded.Length < values.Length) decoded = new float[values.Length];
            start = Stopwatch.GetTimestamp();
            FeatureFrame.Decode(frame, decoded);
            decodeMs += Stopwatch.GetElapsedTime(start).TotalMilliseconds;

            var d = Distortion.Measure(values, decoded.AsSpan(0, values.Length));
            bytes += frame.Length;
            elements += values.Length;
            double energy = 0;
            foreach (float v in values) if (float.IsFinite(v)) energy += (double)v * v;
            signal += energy;
            noise += d.MeanSquaredError * (values.Length - d.NonFiniteInputs);
            minSnr = Math.Min(minSnr, d.SnrDb);
        }
        double snr = noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
        return new RateDistortionPoint(set, family, codec.Spec, tensors.Count, elements, bytes,
            8.0 * bytes / Math.Max(1, elements), 4.0 * elements / Math.Max(1, bytes), snr, minSnr,
            signal > 0 ? noise / signal : 0, encodeMs / Math.Max(1, tensors.Count), decodeMs / Math.Max(1, tensors.Count));
    }
}
