using System.Buffers;
using System.Diagnostics;

namespace Cleave.Codecs.Analysis;

/// <summary>One codec's size, fidelity and speed on one tensor.</summary>
public sealed record CodecBenchmarkResult(
    string Codec,
    int Elements,
    int Bytes,
    double EntropyBoundBytes,
    bool HasEntropyBound,
    Distortion Distortion,
    double EncodeMBps,
    double DecodeMBps,
    int Repetitions)
{
    /// <summary>Size of the same tensor as float32 values (no header) divided by the frame size.</summary>
    public double RatioVsFloat32 => Bytes == 0 ? 0 : 4.0 * Elements / Bytes;
    public double BitsPerElement => Elements == 0 ? 0 : 8.0 * Bytes / Elements;
}

/// <summary>
/// Measures codecs on a tensor: frame bytes (header included), the order-0 entropy bound of the codec's symbol stream,
/// distortion, and encode/decode throughput in MB/s of float32 input, as the median of repeated timed runs.
/// </summary>
public static class CodecBenchmark
{
    /// <param name="minimumSeconds">Repeat each measurement until at least this much time has passed (at least 3 runs).</param>
    public static CodecBenchmarkResult Run(FeatureCodec codec, ReadOnlySpan<float> values, TensorShape shape,
        double minimumSeconds = 0.25, int maxRepetitions = 200)
    {
        var writer = new ArrayBufferWriter<byte>(values.Length * 4 + 256);
        codec.Encode(values, shape, writer); // warm-up, and the frame that is measured
        byte[] frame = writer.WrittenSpan.ToArray();
        var decoded = new float[values.Length];
        FeatureFrame.Decode(frame, decoded);
        var distortion = Distortion.Measure(values, decoded);
        double? bound = codec.EntropyBoundBytes(values, shape);

        var encodeTimes = new List<double>();
        var total = Stopwatch.StartNew();
        while (encodeTimes.Count < 3 || (total.Elapsed.TotalSeconds < minimumSeconds && encodeTimes.Count < maxRepetitions))
        {
            writer.ResetWrittenCount();
            long start = Stopwatch.GetTimestamp();
            codec.Encode(values, shape, writer);
            encodeTimes.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        var decodeTimes = new List<double>();
        total.Restart();
        while (decodeTimes.Count < 3 || (total.Elapsed.TotalSeconds < minimumSeconds && decodeTimes.Count < maxRepetitions))
        {
            long start = Stopwatch.GetTimestamp();
            FeatureFrame.Decode(frame, decoded);
            decodeTimes.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        double megabytes = values.Length * 4.0 / 1e6;
        return new CodecBenchmarkResult(codec.Spec, values.Length, frame.Length, bound ?? 0, bound.HasValue, distortion,
            megabytes / Median(encodeTimes), megabytes / Median(decodeTimes), Math.Min(encodeTimes.Count, decodeTimes.Count));
    }

    internal static double Median(List<double> samples)
    {
        samples.Sort();
        int mid = samples.Count / 2;
        return samples.Count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
    }
}
