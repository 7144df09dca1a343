using System.Diagnostics;
using Cleave.Models.EarlyExit;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Runtime.Client;

/// <summary>
/// The early exit a device runs after its head (<c>exit.onnx</c> and <c>exit.json</c> in the split folder): class
/// scores from the cut tensor, and the decision to answer here when the top softmax probability reaches the threshold
/// calibrated with the split. An answered request never reaches the network or the server.
/// </summary>
public sealed class DeviceExit : IDisposable
{
    private readonly OrtModelRunner _runner;

    private DeviceExit(OrtModelRunner runner, ExitManifest manifest, double threshold)
    {
        _runner = runner;
        Manifest = manifest;
        Threshold = threshold;
    }

    public ExitManifest Manifest { get; }

    /// <summary>Confidence at or above which the device answers (the calibrated one unless overridden).</summary>
    public double Threshold { get; }

    /// <summary>The split's exit, or null when the folder has no <c>exit.json</c>.</summary>
    /// <param name="threshold">overrides the calibrated threshold (above 1: never exit)</param>
    public static DeviceExit? Load(SplitDirectory split, double? threshold = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(split);
        string manifestPath = Path.Combine(split.Path, ExitManifest.FileName);
        if (!File.Exists(manifestPath)) return null;
        var manifest = ExitManifest.Load(manifestPath);
        if (manifest.Input != split.Manifest.Cut[0].Name)
            throw new InvalidDataException($"exit.json reads '{manifest.Input}' but the split's cut is '{split.Manifest.Cut[0].Name}'");
        byte[] model = SplitSideModel.Read(split.Path, manifest.ExitFile, manifest.ExitSha256, ExitManifest.FileName);
        double t = threshold ?? manifest.Threshold;
        if (!double.IsFinite(t)) throw new ArgumentOutOfRangeException(nameof(threshold), t, "the exit threshold must be a number");
        return new DeviceExit(new OrtModelRunner(model, threads), manifest, t);
    }

    /// <summary>Runs the exit on one cut tensor ([1, ...]) and decides.</summary>
    public ExitAnswer Decide(float[] cut, long[] shape) => Decide(cut, shape, out _);

    /// <summary>Runs the exit on one cut tensor ([1, ...]) and decides; <paramref name="scores"/> are the exit's class scores (an evaluation scores them like the tail's).</summary>
    public ExitAnswer Decide(float[] cut, long[] shape, out float[] scores)
    {
        ArgumentNullException.ThrowIfNull(cut);
        long start = Stopwatch.GetTimestamp();
        scores = (float[])_runner.Run(new Dictionary<string, HostTensor> { [Manifest.Input] = new(OnnxElementType.Float, shape, cut) }, [Manifest.Output])[Manifest.Output].Data;
        if (scores.Length != Manifest.Classes)
            throw new InvalidDataException($"the exit gave {scores.Length} scores for one image; exit.json says {Manifest.Classes} classes");
        var (top1, confidence) = SoftmaxTop1(scores);
        return new ExitAnswer(top1, confidence, confidence >= Threshold, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>Index and softmax probability of the largest score (computed stably: shifted by the maximum).</summary>
    public static (int Top1, float Confidence) SoftmaxTop1(ReadOnlySpan<float> scores)
    {
        if (scores.IsEmpty) throw new ArgumentException("no scores");
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        double sum = 0;
        foreach (float s in scores) sum += Math.Exp(s - scores[best]);
        return (best, (float)(1 / sum));
    }

    public void Dispose() => _runner.Dispose();
}
