using System.Diagnostics;
using Cleave.Codecs;
using Cleave.Models.Gating;
using Cleave.Models.Onnx;
using Cleave.Models.Profiling;

namespace Cleave.Runtime.Client;

/// <summary>The gate's choice for one input: the configuration (index into the ladder), its codec, the gate's time.</summary>
public sealed record GateDecision(int Index, FeatureCodec Codec, double Milliseconds);

/// <summary>
/// The per-input gate a device runs after its head (<c>gate.onnx</c> and <c>gate.json</c> in the split folder): one score
/// per codec setting of the ladder from the cut tensor, and the cheapest setting whose running probability reaches the
/// threshold (<see cref="GatePolicy"/>). The link decides the most a request may cost: <see cref="Ceiling"/> (e.g. from
/// <c>plan adapt</c>'s byte budget through <see cref="CeilingForBudget"/>) caps the choice, and the gate picks within it.
/// Every setting is a codec the server decodes from the frame alone, so the server needs no change.
/// </summary>
public sealed class DeviceGate : IDisposable
{
    private readonly OrtModelRunner _runner;
    private int _ceiling;

    private DeviceGate(OrtModelRunner runner, GateManifest manifest, IReadOnlyList<FeatureCodec> codecs, double threshold)
    {
        _runner = runner;
        Manifest = manifest;
        Codecs = codecs;
        Threshold = threshold;
        _ceiling = codecs.Count - 1;
    }

    public GateManifest Manifest { get; }

    /// <summary>The ladder, cheapest first.</summary>
    public IReadOnlyList<FeatureCodec> Codecs { get; }

    /// <summary>The margin the choice is made at (the calibrated one unless overridden; above 1: always the ceiling).</summary>
    public double Threshold { get; }

    /// <summary>The most expensive setting allowed now (index into <see cref="Codecs"/>); the link may lower it at any time.</summary>
    public int Ceiling
    {
        get => Volatile.Read(ref _ceiling);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(value, Codecs.Count);
            Volatile.Write(ref _ceiling, value);
        }
    }

    /// <summary>
    /// The most expensive setting whose calibrated mean frame size fits <paramref name="bytesPerRequest"/> (the cheapest
    /// setting when none does: the gate never refuses to send).
    /// </summary>
    public int CeilingForBudget(double bytesPerRequest)
    {
        var statics = Manifest.Calibration.Static;
        int ceiling = 0;
        for (int k = 0; k < Math.Min(statics.Count, Codecs.Count); k++)
            if (statics[k].MeanBytes <= bytesPerRequest) ceiling = k;
        return ceiling;
    }

    /// <summary>The split's gate, or null when the folder has no <c>gate.json</c>.</summary>
    /// <param name="threshold">overrides the calibrated threshold</param>
    public static DeviceGate? Load(SplitDirectory split, double? threshold = null, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(split);
        string manifestPath = Path.Combine(split.Path, GateManifest.FileName);
        if (!File.Exists(manifestPath)) return null;
        var manifest = GateManifest.Load(manifestPath);
        if (manifest.Input != split.Manifest.Cut[0].Name)
            throw new InvalidDataException($"gate.json reads '{manifest.Input}' but the split's cut is '{split.Manifest.Cut[0].Name}'");
        byte[] model = SplitSideModel.Read(split.Path, manifest.GateFile, manifest.GateSha256, GateManifest.FileName);
        double t = threshold ?? manifest.Threshold;
        if (!double.IsFinite(t)) throw new ArgumentOutOfRangeException(nameof(threshold), t, "the gate threshold must be a number");
        FeatureCodec[] codecs;
        try { codecs = [.. manifest.Codecs.Select(FeatureCodecs.Create)]; }
        catch (FormatException e) { throw new InvalidDataException($"gate.json names a codec this device does not know: {e.Message}", e); }
        return new DeviceGate(new OrtModelRunner(model, threads), manifest, codecs, t);
    }

    /// <summary>Runs the gate on one cut tensor ([1, ...]) and chooses a setting at or below <see cref="Ceiling"/>.</summary>
    public GateDecision Choose(float[] cut, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(cut);
        long start = Stopwatch.GetTimestamp();
        var scores = (float[])_runner.Run(new Dictionary<string, HostTensor> { [Manifest.Input] = new(OnnxElementType.Float, shape, cut) }, [Manifest.Output])[Manifest.Output].Data;
        if (scores.Length != Codecs.Count)
            throw new InvalidDataException($"the gate gave {scores.Length} scores for one input; gate.json has {Codecs.Count} settings");
        int index = GatePolicy.Choose(scores, Threshold, Ceiling);
        return new GateDecision(index, Codecs[index], Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    public void Dispose() => _runner.Dispose();
}
